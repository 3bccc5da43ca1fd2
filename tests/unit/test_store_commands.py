"""``toolwire db upgrade`` / ``toolwire db current`` on both databases."""

from __future__ import annotations

from typer.testing import CliRunner

from toolwire.cli.serve import db_app


def test_db_upgrade_then_current(database_url: str) -> None:
    runner = CliRunner()
    before = runner.invoke(db_app, ["current", "--database-url", database_url])
    assert before.exit_code == 0, before.output
    assert "revision (empty)" in before.output and "needs: toolwire db upgrade" in before.output

    upgraded = runner.invoke(db_app, ["upgrade", "--database-url", database_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert "at revision 0009" in upgraded.output

    after = runner.invoke(db_app, ["current", "--database-url", database_url])
    assert "revision 0009, head 0009 (up to date)" in after.output
    again = runner.invoke(db_app, ["upgrade", "--database-url", database_url])
    assert again.exit_code == 0
