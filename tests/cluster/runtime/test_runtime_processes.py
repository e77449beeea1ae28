"""Starting, exec'ing and signalling container processes, as the kubelet drives them."""

from __future__ import annotations

import pytest
from runtime_box import Box

from kubelab.cluster.runtime import ExecError, StartError, exec_, start


def test_missing_executable_fails_to_start_with_containerd_message():
    box = Box("busybox")
    with pytest.raises(StartError) as err:
        start(["foo"], box.image, box.ctx())
    assert str(err.value) == (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
        'failed: unable to start container process: error during container init: exec: "foo": executable file '
        "not found in $PATH"
    )
    assert err.value.exit_code == 128


def test_missing_absolute_path_and_shell_in_scratch_image_fail_to_start():
    box = Box("busybox")
    with pytest.raises(StartError, match=r'exec: "/app": stat /app: no such file or directory$'):
        start(["/app"], box.image, box.ctx())
    hello = Box("hello-world")
    with pytest.raises(StartError, match=r'exec: "sh": executable file not found in \$PATH$'):
        start(["sh", "-c", "echo hi"], hello.image, hello.ctx())


def test_script_without_exec_bit_or_with_missing_interpreter_fails_like_runc():
    box = Box("alpine")
    box.fs.mount("/scripts", {"run.sh": "#!/bin/bash\necho hi\n"}, mode=0o644)
    with pytest.raises(StartError, match=r'exec: "/scripts/run.sh": permission denied$'):
        start(["/scripts/run.sh"], box.image, box.ctx())
    box.fs.mount("/bin2", {"run.sh": "#!/bin/bash\necho hi\n"}, mode=0o755)
    with pytest.raises(StartError, match=r"exec /bin2/run.sh: no such file or directory$"):
        start(["/bin2/run.sh"], box.image, box.ctx())


def test_executable_configmap_script_runs_through_its_shebang():
    box = Box("busybox")
    box.fs.mount("/scripts", {"run.sh": '#!/bin/sh\necho "args: $*"\nexit 5\n'}, mode=0o755)
    r = box.run(["/scripts/run.sh", "a", "b"])
    assert (r.code, r.stdout) == (5, "args: a b\n")


def test_default_sh_with_no_stdin_exits_at_once():
    for ref in ("busybox", "alpine", "ubuntu"):
        r = Box(ref).run()
        assert (r.code, r.output) == (0, ""), ref


def test_exec_of_a_tool_the_image_lacks_fails_like_kubectl_exec():
    box = Box("nginx")
    with pytest.raises(ExecError) as err:
        exec_(["ps", "aux"], box.image, box.ctx())
    message = str(err.value)
    assert message.startswith('failed to exec in container: failed to start exec "')
    assert message.endswith(
        ': OCI runtime exec failed: exec failed: unable to start container process: exec: "ps": '
        "executable file not found in $PATH: unknown"
    )


def test_busybox_ps_lists_the_containers_processes():
    box = Box("busybox")
    gen, request = box.boot(["sh", "-c", "while true; do sleep 5; done"])
    r = box.exec(["ps", "aux"])
    assert r.code == 0
    assert r.stdout == (
        "PID   USER     TIME  COMMAND\n"
        "    1 root      0:00 sh -c while true; do sleep 5; done\n"
        "    2 root      0:00 sleep 5\n"
        "    3 root      0:00 ps aux\n"
    )
    gen.close()


def test_procps_ps_aux_shows_its_columns():
    box = Box("python")
    gen, _ = box.boot(["sleep", "3600"])
    r = box.exec(["ps", "aux"])
    lines = r.stdout.splitlines()
    assert lines[0] == "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
    assert lines[1].startswith("root           1  0.0")
    assert lines[1].endswith("19:43   0:00 sleep 3600")
    assert lines[2].endswith("0:00 ps aux")
    gen.close()


def test_sh_c_execs_its_last_command_so_sleep_is_pid_1():
    box = Box("busybox")
    gen, _ = box.boot(["sh", "-c", "echo starting; sleep 3600"])
    assert box.fs.procs.rows[1].command == "sleep 3600"
    gen.close()


def test_pid_1_without_a_handler_ignores_sigterm():
    box = Box("busybox")
    gen, request = box.boot(["sh", "-c", "sleep 3600"])
    code, nxt = box.signal(gen, 15)
    assert code is None and nxt.seconds == 3600.0  # the kubelet waits out the grace period, then SIGKILLs
    gen.close()


def test_trap_runs_after_the_current_command_finishes():
    box = Box("busybox")
    gen, request = box.boot(["sh", "-c", "trap 'echo caught; exit 0' TERM; while true; do sleep 2; done"])
    code, request = box.signal(gen, 15)
    assert code is None and request.seconds == 2.0
    code, _, _ = box.drive(gen, until=5, first=request)
    assert code == 0
    assert box.output == "caught\n"


def test_trapped_signal_interrupts_wait():
    box = Box("busybox")
    gen, _ = box.boot(["sh", "-c", "trap 'echo bye; exit 0' TERM; sleep infinity & wait"])
    code, _ = box.signal(gen, 15)
    assert code == 0
    assert box.output == "bye\n"


def test_nginx_shuts_down_gracefully_on_its_stop_signal():
    box = Box("nginx")
    assert box.image.stop_signal == 3
    gen, _ = box.boot()
    assert 80 in box.listening
    code, _ = box.signal(gen, 3)
    assert code == 0
    assert "[notice] 1#1: signal 3 (SIGQUIT) received, shutting down" in box.output
    assert box.output.rstrip().endswith("[notice] 1#1: exit")
    assert box.listening == {}


def test_background_jobs_and_wait():
    r = Box().sh("(sleep 2; echo job) & echo started; wait; echo done $!", until=10)
    assert r.code == 0
    assert r.stdout == "started\njob\ndone 2\n"
    assert r.sleeps == [2.0]


def test_kill_stops_a_background_job():
    r = Box().sh("sleep 100 & kill $!; wait $!; echo status $?", until=10)
    assert (r.code, r.stdout) == (0, "status 143\n")


def test_exec_sees_the_files_the_main_process_wrote():
    box = Box("busybox")
    gen, _ = box.boot(["sh", "-c", "echo ready > /tmp/health; sleep 3600"])
    assert box.exec(["cat", "/tmp/health"]).stdout == "ready\n"
    assert box.exec(["sh", "-c", "test -f /tmp/missing"]).code == 1
    gen.close()


def test_closing_the_generator_kills_the_process_tree():
    box = Box("nginx")
    gen, _ = box.boot()
    gen.close()
    assert box.fs.procs.rows == {}
    assert box.listening == {}


def test_working_set_comes_from_the_process_table():
    box = Box("polinux/stress")
    gen, _ = box.boot(["stress", "--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"])
    assert box.output == "stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd\n"
    assert box.fs.procs.memory_bytes() >= 150 * 1024 * 1024
    gen.close()


def test_liveness_docs_exec_probe_sees_the_file_come_and_go():
    box = Box("busybox")
    gen, request = box.boot(["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"])
    assert box.exec(["cat", "/tmp/healthy"]).code == 0
    box.drive(gen, until=31, first=request)
    r = box.exec(["cat", "/tmp/healthy"])
    assert (r.code, r.stderr) == (1, "cat: can't open '/tmp/healthy': No such file or directory\n")
    gen.close()


def test_start_reads_users_and_workdir_from_this_containers_files_not_the_images():
    box = Box("busybox", user="1234")
    box.fs.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nweb:x:1234:99:web:/srv/web:/bin/sh\n", force=True)
    ctx = box.ctx()
    ctx.workdir = "/data/new"
    result = box.drive(start(["sh", "-c", "id; echo $HOME; pwd"], box.image, ctx))
    assert result[0] == 0
    assert "".join(text for _, text in box.log) == "uid=1234(web) gid=99 groups=99\n/srv/web\n/data/new\n"


def test_main_process_runs_the_executable_found_at_start():
    box = Box("busybox")
    box.fs.mount("/opt/app", {"run.sh": "#!/bin/sh\necho from script\n"}, mode=0o755)
    result = box.drive(start(["/opt/app/run.sh"], box.image, box.ctx()))
    assert result[0] == 0
    assert box.log == [("o", "from script\n")]



def test_kill_from_an_exec_reaches_a_main_program_that_handles_the_signal():
    box = Box("nginx")
    gen, _ = box.boot()
    assert box.exec(["kill", "-QUIT", "1"]).code == 0
    code, _, _ = box.drive(gen, until=5.0)  # the next wake-up of PID 1 picks the queued signal up
    assert code == 0
    assert "gracefully shutting down" in box.output
