"""Report text and tables: the plain text format, and small numbers withheld so that none
can be worked out from the totals."""

from __future__ import annotations

from apps.reports.content import Cell, Row, Table, blocks, suppress


def test_blocks_make_paragraphs_subheadings_and_lists():
    text = "First para\ncontinues.\n\n### A heading\n\n- one\n- two\n\n\nLast."
    result = blocks(text)
    assert [(b.kind, b.text, b.items) for b in result] == [
        ("p", "First para continues.", ()),
        ("h3", "A heading", ()),
        ("ul", "", ("one", "two")),
        ("p", "Last.", ()),
    ]
    assert blocks("") == []
    assert blocks("   \n\n  ") == []


def _table(counts: list[list[int]]) -> Table:
    rows = [Row(f"row {i}", [Cell(n, 0.0) for n in row], sum(row)) for i, row in enumerate(counts)]
    total = Row("All", [Cell(sum(col), 0.0) for col in zip(*counts, strict=True)], 0)
    return Table("t", "Caption", ["good", "ri", "inadequate"], rows, total)


def _hidden(table: Table) -> list[list[bool]]:
    return [[c.suppressed for c in row.cells] for row in table.rows]


def test_small_numbers_are_withheld_with_a_second_cell_in_each_line():
    table = _table([[20, 3, 15], [12, 9, 30]])
    small = suppress(table, {})
    assert [(row.label, i) for row, i in small] == [("row 0", 1)]
    hidden = _hidden(table)
    # The 3 is withheld; so is the smallest other count in its row (15) and in its column
    # (9), and then the lines those open are closed too, so no count can be worked out.
    for line in hidden + [list(col) for col in zip(*hidden, strict=True)]:
        assert sum(line) != 1
    assert hidden[0][1]
    assert table.rows[0].cells[1].secondary is False
    assert any(c.secondary for row in table.rows for c in row.cells)


def test_a_small_number_with_a_recorded_reason_is_shown():
    table = _table([[20, 3, 15], [12, 9, 30]])
    location = table.cell_location(table.rows[0], 1)
    suppress(table, {location: "Counts of cases, not of children"})
    assert not any(c.suppressed for row in table.rows for c in row.cells)
    assert table.rows[0].cells[1].shown_reason == "Counts of cases, not of children"


def test_zeros_and_large_counts_are_never_withheld():
    table = _table([[20, 0, 15], [12, 9, 30]])
    assert suppress(table, {}) == []
    assert not any(c.suppressed for row in table.rows for c in row.cells)


def test_a_small_column_total_is_withheld():
    table = _table([[2, 10, 15], [1, 9, 30]])
    suppress(table, {})
    assert table.total_row is not None
    assert table.total_row.cells[0].suppressed  # 3 in all
