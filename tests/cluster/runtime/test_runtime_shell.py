"""The sandboxed shell: what `sh -c` scripts in manifests print, return and wait for."""

from __future__ import annotations

import pytest
from runtime_box import Box


def test_seed_busybox_date_and_hello_prints_both_lines_and_exits_0():
    r = Box("busybox").run(["sh", "-c", 'date; echo "Hello, World!"'])
    assert r.code == 0
    assert r.stdout == "Tue Nov 25 19:43:18 UTC 2025\nHello, World!\n"


def test_endless_loop_with_sleep_yields_sleep_5_each_round():
    r = Box().sh("while true; do echo tick; sleep 5; done", until=22)
    assert r.code is None
    assert r.sleeps[:5] == [5.0] * 5
    assert r.stdout == "tick\n" * 5


def test_exit_code_comes_from_exit():
    assert Box().sh("exit 3").code == 3
    assert Box().sh("false").code == 1
    assert Box().sh("true; false; true").code == 0


@pytest.mark.parametrize(
    "ref, argv, message",
    [
        ("busybox", ["sh", "-c", "foo"], "sh: foo: not found\n"),
        ("alpine", ["/bin/sh", "-c", "echo hi; foo"], "/bin/sh: foo: not found\n"),
        ("nginx", ["sh", "-c", "foo"], "sh: 1: foo: not found\n"),
        ("nginx", ["bash", "-c", "foo"], "bash: line 1: foo: command not found\n"),
    ],
)
def test_unknown_command_prints_the_shells_own_message_and_gives_127(ref, argv, message):
    r = Box(ref).run(argv)
    assert r.code == 127
    assert r.stderr == message


@pytest.mark.parametrize(
    "script, message",
    [
        ("done", 'sh: syntax error: unexpected "done"\n'),
        ("if true; then echo", 'sh: syntax error: unexpected end of file (expecting "fi")\n'),
        ("echo 'oops", "sh: syntax error: unterminated quoted string\n"),
        ("while true; do done", 'sh: syntax error: unexpected "done"\n'),
    ],
)
def test_syntax_errors_use_ash_wording_and_exit_2(script, message):
    r = Box("busybox").sh(script)
    assert (r.code, r.stderr) == (2, message)


def test_dash_reports_syntax_errors_its_own_way():
    r = Box("nginx").sh("done")
    assert (r.code, r.stderr) == (2, 'sh: 1: Syntax error: "done" unexpected\n')


def test_pipes_feed_simple_filters():
    r = Box().sh(
        "printf 'b\\na\\nc\\na\\n' | sort | uniq -c | head -n 2; "
        "seq 10 | grep -v 1 | wc -l; "
        "echo Hello | tr a-z A-Z; "
        "echo one:two:three | cut -d: -f2; "
        "echo aaa | sed 's/a/b/g'; "
        "printf 'x\\nY\\n' | grep -ic y"
    )
    assert r.code == 0
    assert r.stdout == "      2 a\n      1 b\n8\nHELLO\ntwo\nbbb\n1\n"


def test_quoting_and_parameter_expansion():
    r = Box().sh(
        """x='a  b'; echo $x; echo "$x"; echo '$x' \\$x
        unset y; echo ${y:-default} ${y-unset} "${x:+set}"
        f=/etc/nginx/nginx.conf; echo ${f##*/} ${f%/*} ${#f}
        echo $((2 + 3 * 4)) $(( (2+3)*4 )) $((10 % 3))"""
    )
    assert r.stdout == "a b\na  b\n$x $x\ndefault unset set\nnginx.conf /etc/nginx 21\n14 20 1\n"


def test_special_parameters_status_and_pid():
    r = Box().sh('false; echo $?; echo $$; set -- a b c; echo $# $2 "$@"')
    assert r.stdout == "1\n1\n3 b a b c\n"


def test_command_substitution_and_backticks():
    r = Box().sh('n=$(echo 4 | wc -l); echo "lines=$n"; echo `hostname`; echo "$(echo "nested $(echo deep)")"')
    assert r.stdout == "lines=1\npod-1\nnested deep\n"


def test_assignments_export_and_env():
    r = Box(env={"GREETING": "hi"}).sh("A=1; export B=2; C=3 env | grep -E '^(A|B|C|GREETING)=' | sort")
    assert r.stdout == "B=2\nC=3\nGREETING=hi\n"


def test_control_structures():
    r = Box().sh(
        """for i in 1 2 3; do if [ $i -eq 2 ]; then continue; fi; echo "i=$i"; done
        n=0; while [ $n -lt 3 ]; do n=$((n+1)); done; echo n=$n
        until [ $n -eq 0 ]; do n=$((n-1)); done; echo n=$n
        case "$HOSTNAME" in pod-*) echo pod;; *) echo other;; esac
        if [ -z "" ] && [ -n x ]; then echo both; elif true; then echo no; else echo no; fi"""
    )
    assert r.stdout == "i=1\ni=3\nn=3\nn=0\npod\nboth\n"


def test_functions_heredocs_and_read_loops():
    r = Box().sh(
        """greet() { echo "hello $1"; return 7; }
greet world; echo "rc=$?"
cat <<EOF > /tmp/app.conf
host=$HOSTNAME
EOF
while read line; do echo "read: $line"; done < /tmp/app.conf
cat <<'EOF'
$HOSTNAME stays literal
EOF"""
    )
    assert r.stdout == "hello world\nrc=7\nread: host=pod-1\n$HOSTNAME stays literal\n"


def test_redirections_route_stdout_and_stderr():
    r = Box().sh("ls /nope 2>&1 | sed 's/^/err: /'; echo out > /tmp/o; echo more >> /tmp/o; cat < /tmp/o; echo x >&2")
    assert r.stdout == "err: ls: /nope: No such file or directory\nout\nmore\n"
    assert r.stderr == "x\n"


def test_test_builtin_on_files_strings_and_numbers():
    r = Box().sh(
        "[ -f /etc/passwd ] && echo f; [ -d /etc ] && echo d; [ ! -e /nope ] && echo missing; "
        "[ abc = abc ] && echo eq; [ 10 -ge 9 ] && echo ge; test -n '' || echo empty; [ 1 -lt x ]; echo rc=$?"
    )
    assert r.stdout == "f\nd\nmissing\neq\nge\nempty\nrc=2\n"
    assert "bad number" in r.stderr


def test_echo_printf_and_expr():
    r = Box().sh("echo -n a; echo -e 'b\\tc'; printf '%05d|%-4s|%x\\n' 42 ab 255; expr 6 \\* 7; expr length hello")
    assert r.stdout == "ab\tc\n00042|ab  |ff\n42\n5\n"


def test_dash_echo_prints_dash_e_literally():
    assert Box("nginx").sh("echo -e 'a\\tb'").stdout == "-e a\tb\n"


def test_sleep_accepts_fractions_suffixes_and_infinity():
    r = Box().sh("sleep 0.5; sleep 1m; echo awake; sleep infinity", until=3600)
    assert r.sleeps[:3] == [0.5, 60.0, float("inf")]
    assert r.code is None
    assert Box().sh("sleep abc").stderr == "sleep: invalid number 'abc'\n"


def test_set_e_stops_at_the_first_failure():
    r = Box().sh("set -e; echo one; false; echo two")
    assert (r.code, r.stdout) == (1, "one\n")


def test_subshells_and_pipeline_stages_do_not_change_the_parent():
    r = Box().sh("x=1; (x=2; exit 5); echo $? $x; echo 3 | read x; echo $x")
    assert r.stdout == "5 1\n1\n"


def test_nested_sh_c_runs_in_a_child_shell():
    r = Box().sh("sh -c 'echo inner; exit 4'; echo outer $?")
    assert r.stdout == "inner\nouter 4\n"


def test_date_formats_from_the_simulated_clock():
    r = Box().sh("date +%Y-%m-%dT%H:%M:%S; date -u +%s; date -d @0")
    assert r.stdout == "2025-11-25T19:43:18\n1764099798\nThu Jan  1 00:00:00 UTC 1970\n"


def test_a_loop_without_sleep_is_stopped_with_a_clear_message():
    r = Box().sh("while true; do echo spin > /dev/null; done")
    assert r.code == 137
    assert "kubelab stopped this process" in r.stderr
    assert "without letting simulated time pass" in r.stderr


def test_endless_recursion_is_stopped():
    r = Box().sh("f() { f; }; f")
    assert r.code == 137
    assert "nested too deep" in r.stderr


def test_a_variable_doubling_forever_is_stopped_before_eating_memory():
    r = Box().sh("x=ab; while true; do x=$x$x; done")
    assert r.code == 137
    assert "1 MiB" in r.stderr


def test_the_logging_docs_counter_prints_one_line_per_second():
    r = Box().run(["/bin/sh", "-c", 'i=0; while true; do echo "$i: $(date)"; i=$((i+1)); sleep 1; done'], until=2.5)
    assert r.stdout == (
        "0: Tue Nov 25 19:43:18 UTC 2025\n1: Tue Nov 25 19:43:19 UTC 2025\n2: Tue Nov 25 19:43:20 UTC 2025\n"
    )


def test_exec_with_only_redirections_redirects_the_rest_of_the_script():
    box = Box()
    r = box.sh("exec >> /tmp/app.log 2>&1; echo started; ls /nope")
    assert r.output == ""
    assert box.sh("cat /tmp/app.log").stdout == "started\nls: /nope: No such file or directory\n"


def test_package_managers_exist_where_they_should_and_explain_they_cannot_install():
    r = Box("alpine").sh("apk add curl")
    assert r.code == 1 and r.stderr.startswith("kubelab: `apk` cannot install packages")
    assert Box("busybox").sh("apk add curl").stderr == "sh: apk: not found\n"
    assert Box("nginx").sh("apt-get update").code == 1
