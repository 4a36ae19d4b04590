"""Report text and tables: the plain text format, and small numbers withheld so that none
can be read or worked out from the other counts and the totals."""

from __future__ import annotations

from itertools import product

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
    rows = [Row(f"row {i}", [Cell(n) for n in row], Cell(sum(row))) for i, row in enumerate(counts)]
    columns = [sum(col) for col in zip(*counts, strict=True)]
    total = Row("All cases", [Cell(n) for n in columns], Cell(sum(columns)))
    return Table("t", "Caption", ["good", "ri", "inadequate"], rows, total)


def _recoverable(table: Table) -> set[tuple[int, int]]:
    """The withheld cells a reader can work out from what is shown, by repeatedly solving
    any line (a row with its total, a column with its total, the totals with the grand
    total) that has exactly one unknown."""
    known = {
        (r, c): (cell.count if not cell.suppressed else None)
        for r, row in enumerate(table.all_rows)
        for c, cell in enumerate([*row.cells, row.total])
    }
    width = len(table.columns)
    last_row = len(table.all_rows) - 1
    lines = [([(r, c) for c in range(width)], (r, width)) for r in range(last_row + 1)]
    lines += [([(r, c) for r in range(last_row)], (last_row, c)) for c in range(width + 1)]
    solved: set[tuple[int, int]] = set()
    changed = True
    while changed:
        changed = False
        for cells, margin in lines:
            everything = [*cells, margin]
            unknown = [p for p in everything if known[p] is None]
            if len(unknown) != 1:
                continue
            (place,) = unknown
            if place == margin:
                known[place] = sum(known[p] for p in cells)
            else:
                known[place] = known[margin] - sum(known[p] for p in cells if p != place)
            solved.add(place)
            changed = True
    return solved


def test_a_small_number_is_withheld_and_cannot_be_worked_out():
    table = _table([[20, 3, 15], [12, 9, 30]])
    small = suppress(table, {})
    assert [(row.label, column) for row, column in small] == [("row 0", 1)]
    assert table.rows[0].cells[1].suppressed and not table.rows[0].cells[1].secondary
    assert table.rows[0].cells[1].label == "fewer than 5"
    secondary = [c for row in table.all_rows for c in [*row.cells, row.total] if c.secondary]
    assert secondary and all(c.label == "withheld" for c in secondary)
    assert _recoverable(table) == set()


def test_a_row_whose_only_count_is_small_withholds_its_total():
    # [0, 0, 3]: the row's total would give the 3 away.
    table = _table([[0, 0, 3], [20, 9, 30], [11, 12, 13]])
    suppress(table, {})
    assert table.rows[0].total.suppressed
    assert _recoverable(table) == set()
    assert table.rows[0].percent(table.rows[0].cells[0]) is None


def test_small_column_and_grand_totals_are_withheld_too():
    table = _table([[2, 10, 15], [1, 9, 30]])
    suppress(table, {})
    assert table.total_row is not None
    assert table.total_row.cells[0].suppressed  # 3 in all
    assert _recoverable(table) == set()


def test_no_withheld_count_can_be_worked_out_in_any_small_table():
    # Every 2x3 table with counts from {0, 1, 3, 6, 12}: whatever is withheld stays hidden.
    values = (0, 1, 3, 6, 12)
    for first in product(values, repeat=3):
        for second in ((0, 6, 12), (3, 0, 1), (12, 12, 12)):
            table = _table([list(first), list(second)])
            suppress(table, {})
            assert _recoverable(table) == set(), (first, second)
            for row in table.all_rows:
                for cell in [*row.cells, row.total]:
                    if 1 <= cell.count <= 4:
                        assert cell.suppressed


def test_a_small_number_with_a_recorded_reason_is_shown_for_that_count_only():
    table = _table([[20, 3, 15], [12, 9, 30]])
    location = table.cell_location(table.rows[0], 1)
    suppress(table, {(location, 3): "Counts of cases, not of children"})
    assert not any(c.suppressed for row in table.all_rows for c in [*row.cells, row.total])
    assert table.rows[0].cells[1].shown_reason == "Counts of cases, not of children"
    # The same place with another count is checked afresh.
    other = _table([[20, 2, 15], [12, 9, 30]])
    suppress(other, {(location, 3): "Counts of cases, not of children"})
    assert other.rows[0].cells[1].suppressed


def test_zeros_and_large_counts_are_never_withheld():
    table = _table([[20, 0, 15], [12, 9, 30]])
    assert suppress(table, {}) == []
    assert not any(c.suppressed for row in table.all_rows for c in [*row.cells, row.total])


def test_forced_cells_are_withheld_as_another_table_withholds_them():
    table = Table(
        "cmp", "Compare", ["a", "b", "c"], [Row("x", [Cell(20), Cell(30), Cell(40)], Cell(90))]
    )
    suppress(table, {}, frozenset({(0, 1)}))
    assert table.rows[0].cells[1].suppressed
    assert sum(c.suppressed for c in table.rows[0].cells) == 2  # and one more, in its row
