"""Every example in README.md and docs/*.md runs, or at least matches the real command line.

Each ```bash line that calls ``pysimbias`` is checked against the click
command (subcommand and every flag), and each ``python SCRIPT.py`` line
against the script's own flags; then, unless the block is marked with
``<!-- skip-example -->`` on the line above it, the ``pysimbias`` lines run
in document order, in a temporary folder, at small sample sizes (``--samples``
rewritten to at most QUICK_SAMPLES, `posterior --samples` and `train --runs` capped, plots skipped), together with the
document's ```python blocks and its ``--quick`` script lines.
"""

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass

import click
import pytest

import cli
from conftest import DOCS, ROOT

DOCUMENTS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SKIP = "<!-- skip-example -->"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SEPARATORS = {"&&", ";", "||", "|"}
#: At most this many samples per example run (learners fit a classifier per sample: fewer).
QUICK_SAMPLES = {"learner": 100, "": 2_000}
#: Counting-measure samples and bootstrap replicates of an example comparison.
QUICK_COMPARE = {"--baseline-samples": "2000", "--bootstrap": "10"}
#: The size flag of each learning command and its cap in an example run.
QUICK_LEARNING = {"posterior": ("--samples", 20_000), "train": ("--runs", 100)}


@dataclass
class Block:
    """A fenced code block of a document."""

    language: str
    text: str
    line: int
    runnable: bool


def code_blocks(path):
    """The fenced blocks of a markdown file, in order."""
    source = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(source):
        before = source[:match.start()].rstrip().splitlines()
        blocks.append(Block(match.group(1), match.group(2), source.count("\n", 0, match.start()) + 1,
                            not (before and before[-1].strip() == SKIP)))
    return blocks


def command_lines(text):
    """The simple commands of a shell block: lists of words, comments dropped, split at ; && || |."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current = []
        for word in lexer:
            if word in SEPARATORS:
                commands.append(current)
                current = []
            else:
                current.append(word)
        commands.append(current)
    return [words for words in commands if words]


def click_command(words):
    """The click command a ``pysimbias ...`` line calls, and its arguments after the subcommand."""
    args = words[1:]
    if args and not args[0].startswith("-"):
        assert args[0] in cli.cli.commands, f"no subcommand {args[0]!r} in {' '.join(words)}"
        return cli.cli.commands[args[0]], args[1:]
    return cli.cli, args


def options_of(command):
    """Every flag the click command accepts."""
    flags = {"--help", "-h"} | ({"--version"} if command is cli.cli else set())
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        flags.update(param.opts)
        flags.update(param.secondary_opts)
    return flags


def check_pysimbias(words):
    command, args = click_command(words)
    known = options_of(command)
    for arg in args:
        if arg.startswith("-"):
            assert arg.split("=")[0] in known, f"{arg} is not a flag of {' '.join(words[:2])}"


def script_flags(script):
    """The flags an experiment or benchmark script declares (its own file and its folder's common.py)."""
    sources = [script, script.parent / "common.py"]
    text = "".join(path.read_text(encoding="utf-8") for path in sources if path.is_file())
    return set(re.findall(r"[\"'](--[a-z][a-z0-9-]*)[\"']", text)) | {"--help"}


def check_script(words):
    script = ROOT / words[1]
    assert script.is_file(), f"{words[1]} does not exist"
    flags = script_flags(script)
    for arg in words[2:]:
        if arg.startswith("-"):
            assert arg.split("=")[0] in flags, f"{arg} is not a flag of {words[1]}"


def _capped(value, cap):
    return str(min(int(float(value)), cap))


def _cap_flag(args, flag, cap):
    """Cap ``flag``'s value at ``cap`` in place, adding the flag when it is missing."""
    if flag in args:
        at = args.index(flag) + 1
        args[at] = _capped(args[at], cap)
    else:
        args += [flag, str(cap)]


def quick_args(words):
    """A ``pysimbias`` line's arguments, rewritten to run in seconds."""
    args = list(words[1:])
    if "--help" in args or not args:
        return args
    if args[0] == "sample":
        prior = args[args.index("--prior") + 1] if "--prior" in args else "mlp"
        _cap_flag(args, "--samples", QUICK_SAMPLES.get(prior.partition(":")[0], QUICK_SAMPLES[""]))
    elif args[0] in QUICK_LEARNING:
        flag, cap = QUICK_LEARNING[args[0]]
        _cap_flag(args, flag, cap)
    elif args[0] == "compare":
        for flag, value in QUICK_COMPARE.items():
            _cap_flag(args, flag, int(value))
    if args[0] in ("sample", "compare") and "--no-plots" not in args:
        args.append("--no-plots")
    return args


def run_pysimbias(words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(quick_args(words))
    out, err = capsys.readouterr()
    assert info.value.code == 0, f"{' '.join(words)} failed:\n{out}\n{err}"


def run_script(words, folder):
    result = subprocess.run([sys.executable, str(ROOT / words[1]), *words[2:]], cwd=folder, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(words)} failed:\n{result.stdout}\n{result.stderr}"


def run_python(block, path, folder):
    code = compile(block.text, f"{path.name}:{block.line}", "exec")
    exec(code, {"__name__": f"docs_{path.stem}"})


def is_script(words):
    return words[0] == "python" and len(words) > 1 and words[1].endswith(".py")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_examples_run(path, tmp_path, monkeypatch, capsys, registries):
    """Check every command of the document against the real flags; run the runnable ones in order."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").symlink_to(DOCS)
    for block in code_blocks(path):
        if block.language == "bash":
            for words in command_lines(block.text):
                if words[0] == "pysimbias":
                    check_pysimbias(words)
                    if block.runnable:
                        run_pysimbias(words, capsys)
                elif is_script(words):
                    check_script(words)
                    if block.runnable and "--quick" in words:
                        run_script(words, tmp_path)
        elif block.language == "python" and block.runnable and "--8<--" not in block.text:
            run_python(block, path, tmp_path)


def test_documents_have_examples():
    """The parser finds the examples (a parser that found none would pass every document)."""
    commands = [words for path in DOCUMENTS for block in code_blocks(path) if block.language == "bash"
                for words in command_lines(block.text)]
    assert sum(words[0] == "pysimbias" for words in commands) >= 30
    assert sum(block.language == "python" for path in DOCUMENTS for block in code_blocks(path)) >= 10


def test_command_line_page_names_every_flag():
    """docs/cli.md mentions every flag of every subcommand, and no flag that none of them has."""
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    every = set()
    for name, command in cli.cli.commands.items():
        every |= options_of(command)
        for flag in options_of(command) - {"--help", "-h"}:
            assert flag in page, f"docs/cli.md does not mention {flag} of pysimbias {name}"
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", page):
        assert flag in every | {"--version"}, f"docs/cli.md mentions {flag}, which no subcommand has"


@pytest.mark.parametrize("line, message", [
    ("pysimbias sample --sigma-x 2", "--sigma-x is not a flag"),
    ("pysimbias smaple --n 3", "no subcommand 'smaple'"),
    ("pysimbias compare a b --out c --labelz x", "--labelz is not a flag"),
])
def test_a_wrong_flag_is_caught(line, message):
    """The checker fails on a renamed or removed flag or subcommand."""
    with pytest.raises(AssertionError, match=message):
        check_pysimbias(command_lines(line)[0])


def test_command_lines_split_and_rewrite():
    lines = command_lines("pip install . && pysimbias sample   # the default study\n"
                          "pysimbias --help; pysimbias sample --samples 1e9 \\\n  --out runs/big --resume")
    assert lines == [["pip", "install", "."], ["pysimbias", "sample"], ["pysimbias", "--help"],
                     ["pysimbias", "sample", "--samples", "1e9", "--out", "runs/big", "--resume"]]
    assert quick_args(lines[3]) == ["sample", "--samples", "2000", "--out", "runs/big", "--resume", "--no-plots"]
    assert quick_args(["pysimbias", "sample", "--prior", "learner:knn"])[-3:] == ["--samples", "100", "--no-plots"]
    assert quick_args(["pysimbias", "posterior", "--samples", "1e6", "--n", "5"]) == ["posterior", "--samples", "20000",
                                                                                     "--n", "5"]
    assert quick_args(["pysimbias", "train", "--n", "5"]) == ["train", "--n", "5", "--runs", "100"]
