"""The survey design stored with a data set (itembank/research/dataset_design.py), on SQLite and
PostgreSQL: an upload with weight, stratum and school columns stores the JK2 or BRR-Fay
replicates that irt.replicates builds from the same columns; given replicate weights are kept as
given with the factors of the chosen method; a design CSV attached later replaces the design and
can be removed; every bad design is refused with FILE:ROW:COLUMN and changes nothing; and a
5,000 × 80 design loads in one query."""

from __future__ import annotations

import csv
import io
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from irt import replicates as rep
from itembank.errors import DataFileError
from itembank.research import dataset_design, datasets
from itembank.research.models import Dataset, DatasetPerson
from tests.conftest import REPO, import_bank

from .research_data import field_trial_csv


@pytest.fixture
def bank(request: pytest.FixtureRequest, session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    return session_factory


def _rows(n_persons: int = 120, n_items: int = 8) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(field_trial_csv(n_items, n_persons).decode())))


def _weight(k: int) -> str:
    return ("1", "1.5", "2.25")[k % 3]


def _with_columns(rows: list[dict[str, str]], extra: dict[str, list[str]]) -> bytes:
    """The rows as an upload with the ``extra`` columns after person_id."""
    head = ["person_id", *extra, *(h for h in rows[0] if h != "person_id")]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(head)
    for k, r in enumerate(rows):
        w.writerow([r["person_id"], *(v[k] for v in extra.values()),
                    *(r[h] for h in head[1 + len(extra):])])
    return out.getvalue().encode()


def _upload(factory: sessionmaker[Session], data: bytes, method: str = "brr-fay") -> int:
    with factory() as s, s.begin():
        return datasets.upload_dataset(s, data, "ft.csv", name="ft", window="2026-05",
                                       replicates=method).id


def _stored(factory: sessionmaker[Session], ds_id: int) -> rep.ReplicateDesign | None:
    with factory() as s:
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        return dataset_design.stored_design(s, ds, np.random.default_rng(0))


@pytest.mark.parametrize("method", ["jk2", "brr-fay"])
def test_an_upload_with_weight_and_stratum_stores_the_replicates_built_from_them(
    bank: sessionmaker[Session], method: str
) -> None:
    rows = _rows()
    weights = [_weight(k) for k in range(len(rows))]
    strata = [r["city"] for r in rows]  # 3 cities of about 10 schools; psu = the school
    ds_id = _upload(bank, _with_columns(rows, {"weight": weights, "stratum": strata}), method)
    expected = rep.build(method, np.array(strata), np.array([r["school"] for r in rows]),
                         np.array(weights, dtype=float))
    design = _stored(bank, ds_id)
    assert design is not None and design.method == method and not design.srs
    np.testing.assert_array_equal(design.factors, expected.factors)
    if method == "brr-fay":  # PISA: 80 replicates, c = 1/(80 × 0.5²)
        assert design.n_replicates == 80 and np.allclose(design.factors, 0.05)
    else:  # one replicate per pair of schools (three per zone of three)
        assert design.n_replicates == expected.n_replicates >= 12
    np.testing.assert_array_equal(design.weights, expected.weights)
    np.testing.assert_array_equal(design.replicate_weights, expected.replicate_weights)
    with bank() as s:
        ds = s.get(Dataset, ds_id)
        assert ds is not None and ds.replicate_method == method
        assert ds.survey_design is not None and ds.survey_design["source"] == "upload"
        first = s.scalars(select(DatasetPerson).where(DatasetPerson.dataset_id == ds_id)
                          .order_by(DatasetPerson.id)).first()
        assert first is not None and first.stratum == rows[0]["city"]
        assert first.psu == rows[0]["school"] and first.weight == float(weights[0])
        # the response matrix is unchanged by the design columns (they are not items)
        items = [h for h in rows[0] if h.startswith("GC-")]
        assert datasets.load_matrix(s, [ds_id]).item_ids == sorted(items) and len(items) == 8


def test_given_replicate_weights_are_kept_with_the_factors_of_the_chosen_method(
    bank: sessionmaker[Session],
) -> None:
    rows = _rows(40)
    given = np.round(np.random.default_rng(5).uniform(0.5, 2.0, (len(rows), 4)), 3)
    extra = {"weight": ["1"] * len(rows),
             **{f"repwt{g + 1}": [repr(float(x)) for x in given[:, g]] for g in range(4)}}
    ds_id = _upload(bank, _with_columns(rows, extra), "jk2")
    design = _stored(bank, ds_id)
    assert design is not None and design.method == "given"
    np.testing.assert_array_equal(design.replicate_weights, given)
    np.testing.assert_array_equal(design.factors, np.ones(4))  # JK2: c = 1
    with bank() as s:
        ds = s.get(Dataset, ds_id)
        assert ds is not None and ds.survey_design is not None
        assert ds.survey_design["read_as"] == "jk2" and ds.survey_design["replicates"] == 4


def test_a_design_attached_later_replaces_and_is_removed(bank: sessionmaker[Session]) -> None:
    rows = _rows(60)
    ds_id = _upload(bank, field_trial_csv(8, 60))
    assert _stored(bank, ds_id) is None  # no design: the report uses simple random sampling
    table = "person_id,weight,stratum,psu\n" + "".join(
        f"{r['person_id']},{_weight(k)},{r['city']},\n" for k, r in enumerate(rows))
    with bank() as s, s.begin():
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        dataset_design.attach_design_csv(s, ds, table.encode(), "design.csv", "jk2")
    design = _stored(bank, ds_id)
    expected = rep.jk2(np.array([r["city"] for r in rows]), np.array([r["school"] for r in rows]),
                       np.array([float(_weight(k)) for k in range(len(rows))]))
    assert design is not None and design.method == "jk2"
    np.testing.assert_array_equal(design.replicate_weights, expected.replicate_weights)
    # weights only: stored, and the SEs assume simple random sampling (with those weights)
    only = "person_id,weight\n" + "".join(f"{r['person_id']},2\n" for r in rows)
    with bank() as s, s.begin():
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        dataset_design.attach_design_csv(s, ds, only.encode(), "weights.csv", "brr-fay")
    design = _stored(bank, ds_id)
    assert design is not None and design.srs and np.all(design.weights == 2.0)
    with bank() as s:
        assert s.scalar(select(func.count()).where(DatasetPerson.dataset_id == ds_id,
                                                    DatasetPerson.stratum.is_not(None))) == 0
    with bank() as s, s.begin():
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        dataset_design.remove_design(s, ds)
    assert _stored(bank, ds_id) is None


UPLOAD_ERRORS = [
    # (extra columns from rows → dict, expected FILE:ROW:COLUMN, message)
    (lambda rows: {"weight": ["-1", *["1"] * (len(rows) - 1)], "stratum": [r["city"] for r in rows]},
     "ft.csv:2:2:", "weight must be a number ≥ 0"),
    (lambda rows: {"weight": ["1"] * len(rows), "stratum": ["", *(r["city"] for r in rows[1:])]},
     "ft.csv:2:3:", "empty stratum"),
    (lambda rows: {"stratum": ["lonely", *(r["city"] for r in rows[1:])]},
     "ft.csv:2:2:", "stratum 'lonely' has one school"),
    (lambda rows: {"weight": ["1"] * len(rows), "repwt1": ["1"] * len(rows),
                   "repwt3": ["1"] * len(rows)}, "ft.csv:1:4:", "no column repwt2"),
    (lambda rows: {"repwt1": ["1"] * len(rows), "repwt2": ["1"] * len(rows)},
     "ft.csv:1:2:", "need the final student weight"),
    (lambda rows: {"weight": ["1"] * len(rows), "stratum": [r["city"] for r in rows],
                   "repwt1": ["1"] * len(rows), "repwt2": ["1"] * len(rows)},
     "ft.csv:1:4:", "not both"),
    (lambda rows: {"psu": [r["school"] for r in rows]}, "ft.csv:1:2:", "needs a column stratum"),
    (lambda rows: {"weight": ["0"] * len(rows)}, "ft.csv:1:0:", "the weights sum to zero"),
]


@pytest.mark.parametrize(("extra", "where", "message"), UPLOAD_ERRORS)
def test_bad_design_columns_are_refused_and_nothing_is_stored(
    bank, extra, where, message  # type: ignore[no-untyped-def]
) -> None:
    rows = _rows(30)
    with bank() as s, s.begin(), pytest.raises(DataFileError) as exc:
        datasets.upload_dataset(s, _with_columns(rows, extra(rows)), "ft.csv", name="bad")
    assert where in str(exc.value) and message in str(exc.value), str(exc.value)
    with bank() as s:
        assert s.scalar(select(func.count(Dataset.id))) == 0
        assert s.scalar(select(func.count(DatasetPerson.id))) == 0


@pytest.mark.parametrize(
    ("table", "where", "message"),
    [
        (lambda rows: "person_id,weight,stratum\nNOBODY,1,x\n" + "".join(
            f"{r['person_id']},1,{r['city']}\n" for r in rows), "design.csv:2:1:", "'NOBODY' is not in"),
        (lambda rows: "person_id,weight,stratum\n" + "".join(
            f"{r['person_id']},1,{r['city']}\n" for r in rows[1:]), "design.csv:0:0:", "have no row"),
        (lambda rows: "person_id,grade\n" + "".join(
            f"{r['person_id']},8\n" for r in rows), "design.csv:1:0:", "no design column"),
        (lambda rows: "person_id,weight,stratum\n" + "".join(
            f"{r['person_id']},x,{r['city']}\n" for r in rows), "design.csv:2:2:", "must be a number"),
    ],
)
def test_a_bad_design_csv_changes_nothing(bank, table, where, message) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(30)
    good = {"weight": ["1"] * len(rows), "stratum": [r["city"] for r in rows]}
    ds_id = _upload(bank, _with_columns(rows, good), "jk2")
    before = _stored(bank, ds_id)
    with bank() as s, s.begin(), pytest.raises(DataFileError) as exc:
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        dataset_design.attach_design_csv(s, ds, table(rows).encode(), "design.csv", "brr-fay")
    assert where in str(exc.value) and message in str(exc.value), str(exc.value)
    after = _stored(bank, ds_id)
    assert before is not None and after is not None and after.method == "jk2"
    np.testing.assert_array_equal(after.replicate_weights, before.replicate_weights)


def test_a_pisa_sized_design_loads_in_one_query(bank: sessionmaker[Session]) -> None:
    """5,000 students × 80 BRR-Fay replicates: stored with the upload, loaded as arrays."""
    rows = _rows(5000, n_items=40)
    strata = [r["city"] for r in rows]
    ds_id = _upload(bank, _with_columns(rows, {"weight": [_weight(k) for k in range(len(rows))],
                                               "stratum": strata}))
    with bank() as s:
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        start = time.perf_counter()
        design = dataset_design.stored_design(s, ds, np.random.default_rng(0))
        took = time.perf_counter() - start
    assert design is not None and design.replicate_weights.shape == (5000, 80)
    print(f"load of a 5,000 × 80 design: {took:.3f} s")
    assert took < 5.0, took  # a long table of 400,000 rows would be far slower


design_cells = st.one_of(st.text(max_size=6), st.sampled_from(["1", "0", "-1", "1e308", "nan", "inf",
                                                                "", "a", "1.5", "\x00"]))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_generated_design_files_are_refused_or_stored_never_an_error(
    bank: sessionmaker[Session],
) -> None:
    """Any bytes, and design tables with odd cells, give DataFileError or a stored design."""
    rows = _rows(12, n_items=4)
    ds_id = _upload(bank, field_trial_csv(4, 12))

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(header=st.lists(st.sampled_from(["weight", "stratum", "psu", "repwt1", "repwt2",
                                            "repwt3", "grade"]), min_size=1, max_size=4, unique=True),
           cells=st.lists(design_cells, min_size=4 * len(rows), max_size=4 * len(rows)),
           raw=st.one_of(st.none(), st.binary(max_size=200)))
    def run(header: list[str], cells: list[str], raw: bytes | None) -> None:
        if raw is not None:
            data = raw
        else:
            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["person_id", *header])
            for k, r in enumerate(rows):
                w.writerow([r["person_id"], *cells[4 * k: 4 * k + len(header)]])
            data = out.getvalue().encode("utf-8", "surrogatepass")
        with bank() as s:
            try:
                with s.begin():
                    ds = s.get(Dataset, ds_id)
                    assert ds is not None
                    dataset_design.attach_design_csv(s, ds, data, "g.csv", "brr-fay")
            except DataFileError:
                return
        assert _stored(bank, ds_id) is not None  # accepted: the design is stored

    run()


def test_a_design_attached_to_a_snapshot_of_online_sessions(bank: sessionmaker[Session]) -> None:
    """Persons of a sessions data set are keyed by session id and carry the roster's school,
    which is the PSU when the design CSV leaves psu blank."""
    schools = [f"s{k // 5}" for k in range(20)]  # 4 schools of 5, strata of 2 schools
    with bank() as s, s.begin():
        ds = Dataset(name="online", source="sessions", item_ids=[], n_persons=20)
        s.add(ds)
        s.flush()
        s.add_all([DatasetPerson(dataset_id=ds.id, person_id=str(100 + k), school=school)
                   for k, school in enumerate(schools)])
        ds_id = ds.id
    table = "person_id,weight,stratum,psu\n" + "".join(
        f"{100 + k},1,{'h1' if k < 10 else 'h2'},\n" for k in range(20))
    with bank() as s, s.begin():
        ds = s.get(Dataset, ds_id)
        assert ds is not None
        dataset_design.attach_design_csv(s, ds, table.encode(), "online-design.csv", "jk2")
    design = _stored(bank, ds_id)
    assert design is not None and design.n_replicates == 2  # one pair of schools per stratum
    # JK2: the first school of each pair doubled, the second dropped (known answer)
    np.testing.assert_array_equal(design.replicate_weights[:, 0], [2.0] * 5 + [0.0] * 5 + [1.0] * 10)
    np.testing.assert_array_equal(design.replicate_weights[:, 1], [1.0] * 10 + [2.0] * 5 + [0.0] * 5)
    with bank() as s:
        psus = s.scalars(select(DatasetPerson.psu).where(DatasetPerson.dataset_id == ds_id)
                         .order_by(DatasetPerson.id)).all()
        assert psus == schools
