#!/usr/bin/env python3
"""Checks packaging/monitoring/binlog-relay-dashboard.json.

Always: the structure Grafana's dashboard schema (schemaVersion 38) needs: the top-level fields, the
templating variables the panels use, and every panel with an id (unique), a type, a title, a
gridPos inside the 24-column grid, a Prometheus datasource reference to ${datasource} and targets
with a refId and an expr (rows excepted).

With --scrape FILE (a live /metrics scrape of the relay): every binlog_relay_* name a query uses is
exported by the relay, except the names in EXPECTED_LATER.

With --prometheus URL (a Prometheus server that scrapes that relay): every query evaluates through
/api/v1/query without error, and returns data unless it reads only names in MAY_BE_EMPTY (retried for
up to --wait seconds: rate() needs two scrapes).
"""
import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request

# Names a panel may query before the relay exports them. Keep this list short and say why.
EXPECTED_LATER: set[str] = set()

# Names whose queries may return no data from the live test's relay. The relay creates some series
# only at their first event (upstream errors, auth failures, refused connections); the live test
# provokes each of those, so only the expected-later names remain here.
MAY_BE_EMPTY = set(EXPECTED_LATER)

TOP_LEVEL = {"title": str, "uid": str, "panels": list, "schemaVersion": int, "templating": dict,
             "time": dict, "tags": list, "editable": bool, "annotations": dict}
NAME = re.compile(r"\bbinlog_relay_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def fail(errors, message):
    errors.append(message)


def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def check_structure(dashboard):
    errors = []
    for field, kind in TOP_LEVEL.items():
        if not isinstance(dashboard.get(field), kind):
            fail(errors, f"top-level field {field!r} missing or not a {kind.__name__}")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource" or \
            variables["datasource"].get("query") != "prometheus":
        fail(errors, "templating needs a 'datasource' variable of type datasource querying prometheus")
    if "instance" not in variables:
        fail(errors, "templating needs the 'instance' variable the queries use")
    ids = set()
    panels = list(walk_panels(dashboard.get("panels", [])))
    if not panels:
        fail(errors, "no panels")
    for panel in panels:
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        for field, kind in (("id", int), ("type", str), ("title", str), ("gridPos", dict)):
            if not isinstance(panel.get(field), kind) or (kind is str and not panel[field]):
                fail(errors, f"{where}: {field!r} missing or not a {kind.__name__}")
        if panel.get("id") in ids:
            fail(errors, f"{where}: id {panel.get('id')} is not unique")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
            fail(errors, f"{where}: gridPos needs integer h, w, x, y")
        elif grid["x"] < 0 or grid["w"] < 1 or grid["x"] + grid["w"] > 24 or grid["h"] < 1:
            fail(errors, f"{where}: gridPos {grid} is outside the 24-column grid")
        if panel.get("type") == "row":
            continue
        if panel.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            fail(errors, f"{where}: datasource must be the ${{datasource}} Prometheus variable")
        targets = panel.get("targets")
        if not isinstance(targets, list) or not targets:
            fail(errors, f"{where}: no targets")
            continue
        refs = set()
        for target in targets:
            if not isinstance(target.get("expr"), str) or not NAME.search(target["expr"]):
                fail(errors, f"{where}: target {target.get('refId')} has no binlog_relay expr")
            if not target.get("refId") or target["refId"] in refs:
                fail(errors, f"{where}: target refIds must be present and unique")
            refs.add(target.get("refId"))
            if "$instance" not in target.get("expr", ""):
                fail(errors, f"{where}: target {target.get('refId')} does not filter on $instance")
    return errors


def queries(dashboard):
    for panel in walk_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield panel["title"], target["refId"], target["expr"]


def scraped_names(text):
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, 1)[0])
    return names


def check_names(dashboard, scrape):
    errors = []
    exported = scraped_names(scrape)
    for title, ref, expr in queries(dashboard):
        for name in NAME.findall(expr):
            base = name
            for suffix in HISTOGRAM_SUFFIXES:
                if name.endswith(suffix) and name[: -len(suffix)] in exported:
                    base = name[: -len(suffix)]
            if name not in exported and base not in exported and name not in EXPECTED_LATER:
                fail(errors, f"{title!r} {ref}: {name} is not in the relay's /metrics")

    for name in EXPECTED_LATER:
        if name in exported:
            print(f"note: {name} is exported now; remove it from EXPECTED_LATER")
    return errors


def promql(expr):
    """The expression as Grafana sends it for a 'All' instance selection and a 1 s scrape interval."""
    return expr.replace("$instance", ".*").replace("$__rate_interval", "15s")


def query(url, expr):
    with urllib.request.urlopen(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}),
                                timeout=20) as reply:
        return json.load(reply)


def check_live(dashboard, url, wait_seconds):
    errors = []
    pending = list(queries(dashboard))
    deadline = time.monotonic() + wait_seconds
    while True:
        still = []
        for title, ref, expr in pending:
            try:
                answer = query(url, promql(expr))
            except Exception as error:  # an HTTP 400 is a bad query: report it with the body
                body = getattr(error, "read", lambda: b"")().decode(errors="replace")
                fail(errors, f"{title!r} {ref}: {promql(expr)}: {error} {body}")
                continue
            if answer.get("status") != "success":
                fail(errors, f"{title!r} {ref}: {answer}")
            elif not answer["data"]["result"] and not set(NAME.findall(expr)) <= MAY_BE_EMPTY:
                still.append((title, ref, expr))
        if not still or time.monotonic() > deadline:
            break
        pending = still
        time.sleep(1)
    for title, ref, expr in still:
        fail(errors, f"{title!r} {ref}: {promql(expr)} returned no data")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--scrape")
    parser.add_argument("--prometheus")
    parser.add_argument("--wait", type=float, default=60)
    args = parser.parse_args()
    with open(args.dashboard, encoding="utf-8") as f:
        dashboard = json.load(f)
    errors = check_structure(dashboard)
    if args.scrape and not errors:
        with open(args.scrape, encoding="utf-8") as f:
            errors += check_names(dashboard, f.read())
    if args.prometheus and not errors:
        errors += check_live(dashboard, args.prometheus, args.wait)
    for error in errors:
        print("error: " + error)
    count = sum(1 for _ in queries(dashboard))
    print(f"{'FAILED' if errors else 'ok'}: {count} queries, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
