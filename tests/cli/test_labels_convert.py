"""`loopwise labels convert`: entity labels through Label Studio and JSONL and back to the same CoNLL file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from loopwise.cli.main import app

CONLL = "# id = s1\nEU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n\n# id = s2\nPeter\tB-PER\nBlackburn\tI-PER\n"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_conll_through_label_studio_and_jsonl_comes_back_the_same(tmp_path: Path) -> None:
    source, ls, jl, back = tmp_path / "a.conll", tmp_path / "a.json", tmp_path / "a.jsonl", tmp_path / "b.conll"
    source.write_text(CONLL)
    assert invoke("labels", "convert", str(source), str(ls), "--from", "conll", "--to", "label-studio").exit_code == 0
    assert '"labels": [\n' in ls.read_text() and '"PER"' in ls.read_text()
    assert invoke("labels", "convert", str(ls), str(jl), "--from", "label-studio", "--to", "jsonl").exit_code == 0
    result = invoke("labels", "convert", str(jl), str(back), "--from", "jsonl", "--to", "conll")
    assert result.exit_code == 0 and "2 sentences, 3 entities" in result.output
    assert back.read_text() == CONLL


def test_bad_formats_and_lines_exit_2_naming_them(tmp_path: Path) -> None:
    source = tmp_path / "a.conll"
    source.write_text("EU\tB-ORG\nrejects\tREJ\n")
    result = invoke("labels", "convert", str(source), str(tmp_path / "x"), "--from", "conll", "--to", "brat")
    assert result.exit_code == 2 and "--to must be one of conll, jsonl, label-studio; got 'brat'" in result.output
    result = invoke("labels", "convert", str(source), str(tmp_path / "x"), "--from", "conll", "--to", "jsonl")
    assert result.exit_code == 2 and "a.conll, line 2: tag 'REJ' is not BIO" in result.output
    assert not (tmp_path / "x").exists()
