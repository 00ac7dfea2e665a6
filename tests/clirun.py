"""Running the command line in-process, as the tests do."""

import pytest

import cli


def run_cli(capsys, *args):
    """Run ``pysimbias ARGS``; return its exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as info:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err
