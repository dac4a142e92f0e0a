"""The default-preset selection script's rules, on made-up scores."""

from select_preset import FIRST, RULES, SECOND, report, summary


def _scores(hota, idf1, mota=50.0, idsw=10):
    return {g: {"HOTA": hota[i % len(hota)], "MOTA": mota, "IDF1": idf1[i % len(idf1)],
                "IDSW": idsw} for i, g in enumerate(FIRST + SECOND)}


def test_summary_means_and_sums():
    s = summary(_scores([40.0, 50.0], [60.0]), FIRST)
    assert s["IDSW"] == 30 and abs(s["HOTA"] - (40 + 50 + 40) / 3) < 1e-9


def test_rules_pick_as_documented():
    base = _scores([40.0], [50.0], idsw=10)
    high_mean = _scores([60.0, 30.0], [55.0], idsw=20)   # best mean HOTA, one group worse
    steady = _scores([45.0], [56.0], idsw=5)               # every group better
    trials = [({"name": "high_mean"}, high_mean), ({"name": "steady"}, steady)]
    pick = {name: max(trials, key=lambda t: rule(t[1], base, FIRST))[0]["name"]
            for name, rule in RULES.items()}
    assert pick["max mean HOTA (the rule)"] == "high_mean"
    assert pick["max worst-group HOTA gain"] == "steady"
    assert pick["max mean IDF1 with MOTA >= plain and IDSW <= 0.7 plain"] == "steady"


def test_report_prints_both_rounds(capsys):
    base = _scores([40.0], [50.0])
    report(base, [({"max_cosine_distance": 0.3}, _scores([41.0], [52.0]))])
    out = capsys.readouterr().out
    assert out.count("round 1") == len(RULES) and "held-out groups" in out
