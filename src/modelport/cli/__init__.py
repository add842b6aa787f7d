"""The command line: the only place that knows typer and rich.

Exit codes: 0 success, 1 a user error (bad input, unknown model, conflict...: one clear line on stderr), 2 an
internal error (a bug or a broken environment; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from ..errors import ModelportError

EXIT_OK, EXIT_USER_ERROR, EXIT_INTERNAL_ERROR = 0, 1, 2


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("modelport")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    import typer
    import typer.main
    from pydantic import ValidationError

    from ..settings import settings_problem
    from ._output import _console as console  # made (and rich imported) only when there is something to say
    from .app import app

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MODELPORT_DEBUG", "") not in ("", "0")
    if "--debug" in args:  # accepted anywhere on the line, not only before the command
        args.remove("--debug")
    _setup_logging(debug)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="modelport", standalone_mode=False)
    except ModelportError as exc:
        if debug:
            console(stderr=True).print_exception()
        console(stderr=True).print(f"[bold red]error:[/bold red] {exc.message}", markup=True, highlight=False)
        return EXIT_USER_ERROR
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        console(stderr=True).print("aborted")
        return EXIT_USER_ERROR
    except typer.TyperException as exc:  # usage errors: a missing argument, an unknown option...
        show = getattr(exc, "show", None)
        if callable(show):
            show(file=sys.stderr)
        else:
            console(stderr=True).print(f"error: {exc.format_message()}", markup=False)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        console(stderr=True).print("interrupted")
        return 130
    except ValidationError as exc:  # a setting from the environment that is not what it must be
        problem = settings_problem(exc)
        if problem is None:
            return _internal_error(exc, debug)
        if debug:
            console(stderr=True).print_exception()
        console(stderr=True).print(f"error: {problem}", markup=False, highlight=False)
        return EXIT_USER_ERROR
    except Exception as exc:
        return _internal_error(exc, debug)
    return int(result) if isinstance(result, int) else EXIT_OK


def _internal_error(exc: Exception, debug: bool) -> int:
    from ._output import _console as console

    if debug:
        console(stderr=True).print_exception()
    else:
        console(stderr=True).print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: {exc}\n"
            "run again with --debug for the traceback, and report it if it is a bug",
            markup=True,
            highlight=False,
        )
    return EXIT_INTERNAL_ERROR


def entry_point() -> None:
    sys.exit(main())
