"""Ownership arithmetic: control chains and the SecNumCloud §19.6 foreign-ownership test.

Pure functions over plain data, so the same code serves the database and an estate file read without one.

Modelling choices (documented in docs/sovereignty-model.md):
- capital is looked through multiplicatively along every path (30 % of 50 % is 15 %);
- voting rights follow control: an entity that controls an intermediate (more than 50 % of its votes,
  or named as its parent) is deemed to cast all of the intermediate's votes; otherwise votes multiply;
- "non-EU entities together" counts each path once, at the first non-EU entity met going up, so a
  non-EU holding is never double-counted through its own parents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from souverain.core.errors import InconsistentData

SINGLE_THRESHOLD = 24.0
TOTAL_THRESHOLD = 39.0
CONTROL_THRESHOLD = 50.0


@dataclass(frozen=True)
class Line:
    """One sentence (or chain link) of an explanation: a message id — its English text with ``{field}``s — and
    its parameters, so that the API keeps the English sentence and the portal says it in the reader's language.

    ``str(line)`` is the English text. ``render(translate, formats)`` looks the id up with ``translate`` (gettext,
    injected: this module stays free of Django) and formats each parameter with the first ``formats`` entry whose
    suffix ends its name (``_pct``: a percentage; ``country``: an ISO code, shown as the country's name). English
    templates may use ``*_text`` parameters (words already in English) that translations leave out."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**{k: _pct(v) if k.endswith("_pct") else v for k, v in self.params.items()})

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.template, "params": dict(self.params)}

    @staticmethod
    def render(line: dict[str, Any], translate: Callable[[str], str],
               formats: dict[str, Callable[[Any], str]]) -> str:
        """A line (as ``as_dict`` gives it) in the language of ``translate``; the English text if the translation
        does not fit the parameters."""
        params = {}
        for name, value in line["params"].items():
            formatter = next((f for suffix, f in formats.items() if name.endswith(suffix)), None)
            params[name] = formatter(value) if formatter else value
        try:
            return translate(line["id"]).format(**params)
        except (KeyError, IndexError, ValueError):
            return str(Line(line["id"], line["params"]))


class OwnershipCycleError(InconsistentData, ValueError):
    """An entity that owns or controls itself through a chain: no control chain or look-through is defined.

    Writes refuse cycles (API, estate file); met while computing, it is stored data gone wrong, shown as 409."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("ownership cycle: " + " → ".join(cycle))

    @property
    def details(self) -> dict[str, Any]:
        return {"cycle": self.cycle}


@dataclass(frozen=True)
class Holding:
    owned: str
    holder: str
    capital: float
    voting: float


@dataclass
class OwnershipGraph:
    """Entities by id with their country, holdings, and explicit parents."""

    countries: dict[str, str]
    names: dict[str, str]
    holdings: list[Holding] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)
    # Dispersed holders (a listed company's public float) own shares but control nothing.
    non_controlling: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._holders: dict[str, list[Holding]] = {}
        for holding in self.holdings:
            self._holders.setdefault(holding.owned, []).append(holding)

    def holders_of(self, entity: str) -> list[Holding]:
        return self._holders.get(entity, [])

    def find_cycle(self) -> list[str] | None:
        """Return one ownership/parent cycle as a path, or None."""
        edges = self._edges()
        # Iterative depth-first search (1 = on the current path, 2 = done): a long chain cannot exhaust the stack.
        state: dict[str, int] = {}
        for root in sorted(edges):
            if root in state:
                continue
            state[root] = 1
            path = [root]
            pending = [iter(sorted(edges.get(root, ())))]
            while pending:
                nxt = next(pending[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    pending.pop()
                elif state.get(nxt) == 1:
                    return path[path.index(nxt):] + [nxt]
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    pending.append(iter(sorted(edges.get(nxt, ()))))
        return None

    def find_cycle_through(self, start: str) -> list[str] | None:
        """A cycle that passes through ``start``, as a path from ``start`` back to it, or None.

        What a write of ``start``'s parent or holders must check: other cycles, if any, are not its doing."""
        edges = self._edges()
        previous: dict[str, str] = {}
        pending = [start]
        while pending:
            node = pending.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if nxt not in previous:
                    previous[nxt] = node
                    pending.append(nxt)
        return None

    def _edges(self) -> dict[str, set[str]]:
        edges: dict[str, set[str]] = {}
        for holding in self.holdings:
            edges.setdefault(holding.owned, set()).add(holding.holder)
        for child, parent in self.parents.items():
            edges.setdefault(child, set()).add(parent)
        return edges

    def check_acyclic(self) -> None:
        cycle = self.find_cycle()
        if cycle:
            raise OwnershipCycleError(cycle)

    def controlling_parent(self, entity: str) -> tuple[str, str] | None:
        """(parent id, why) — an explicit parent, else the holder of more than half of the votes."""
        if entity in self.parents:
            return self.parents[entity], "parent"
        for holding in self.holders_of(entity):
            if holding.voting > CONTROL_THRESHOLD and holding.holder not in self.non_controlling:
                return holding.holder, f"{_pct(holding.voting)} of voting rights"
        return None

    def control_chain(self, entity: str) -> list[tuple[str, str]]:
        """[(entity, relation)] from the entity up through its controlling parents."""
        self.check_acyclic()
        chain = [(entity, "operator")]
        seen = {entity}
        current = entity
        while (parent := self.controlling_parent(current)) is not None:
            holder, why = parent
            if holder in seen:
                break
            chain.append((holder, str(self.relation(current, holder))))
            seen.add(holder)
            current = holder
        return chain

    def relation(self, owned: str, holder: str) -> Line:
        """How ``holder`` controls ``owned``, in words: "100 % owned", "30 % of capital and 60 % of votes held"."""
        share = next((h for h in self.holders_of(owned) if h.holder == holder), None)
        if share is None:
            return Line("controlled")
        if share.capital == share.voting:
            return Line("{capital_pct} owned", {"capital_pct": share.capital})
        return Line("{capital_pct} of capital and {voting_pct} of votes held",
                    {"capital_pct": share.capital, "voting_pct": share.voting})

    def look_through(self, target: str, metric: str) -> dict[str, float]:
        """Percent of ``target`` held by every upstream entity (capital multiplies; votes follow control)."""
        self.check_acyclic()
        memo: dict[str, dict[str, float]] = {}

        def shares(node: str) -> dict[str, float]:
            if node in memo:
                return memo[node]
            result: dict[str, float] = {}
            for holding in self.holders_of(node):
                direct = holding.capital if metric == "capital" else holding.voting
                result[holding.holder] = result.get(holding.holder, 0.0) + direct
                for upstream, pct in shares(holding.holder).items():
                    if metric == "voting" and (pct > CONTROL_THRESHOLD or self.parents.get(holding.holder) == upstream):
                        factor = 1.0
                    else:
                        factor = pct / 100.0
                    result[upstream] = result.get(upstream, 0.0) + direct * factor
            memo[node] = result
            return result

        return {k: min(v, 100.0) for k, v in shares(target).items()}

    def non_eu_total(self, target: str, metric: str, is_eu: Callable[[str], bool]) -> float:
        """Share held by non-EU entities together, stopping at the first non-EU entity on each path."""
        memo: dict[str, float] = {}

        def total(node: str) -> float:
            if node in memo:
                return memo[node]
            value = 0.0
            for holding in self.holders_of(node):
                direct = holding.capital if metric == "capital" else holding.voting
                if not is_eu(self.countries.get(holding.holder, "")):
                    value += direct
                else:
                    upstream = total(holding.holder)
                    if metric == "voting" and upstream > CONTROL_THRESHOLD:
                        value += direct
                    else:
                        value += direct * upstream / 100.0
            memo[node] = min(value, 100.0)
            return memo[node]

        self.check_acyclic()
        return total(target)


@dataclass(frozen=True)
class OwnershipTest:
    passed: bool
    seat_in_eu: bool
    non_eu_single_max: dict | None
    non_eu_total_capital: float
    non_eu_total_voting: float
    explanation: list[str]
    lines: tuple[Line, ...] = ()  # the explanation as message ids and parameters (translatable)

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "seat_in_eu": self.seat_in_eu,
            "non_eu_single_max": self.non_eu_single_max,
            "non_eu_total_capital": round(self.non_eu_total_capital, 3),
            "non_eu_total_voting": round(self.non_eu_total_voting, 3),
            "thresholds": {"single": SINGLE_THRESHOLD, "total": TOTAL_THRESHOLD},
            "explanation": self.explanation,
        }


def ownership_test(graph: OwnershipGraph, operator: str, eu_countries: Iterable[str]) -> OwnershipTest:
    """SecNumCloud 3.2 §19.6: EU seat; no non-EU entity > 24 %; non-EU entities together ≤ 39 %."""
    eu = set(eu_countries)

    def is_eu(country: str) -> bool:
        return country in eu

    name = graph.names.get(operator, operator)
    seat_country = graph.countries.get(operator, "")
    lines: list[Line] = []
    seat_in_eu = is_eu(seat_country)
    if not seat_country:
        lines.append(Line("{name} has its seat in an unknown country (outside the EU).", {"name": name}))
    elif seat_in_eu:
        lines.append(Line("{name} has its seat in {country} (EU).", {"name": name, "country": seat_country}))
    else:
        lines.append(Line("{name} has its seat in {country} (outside the EU).",
                          {"name": name, "country": seat_country}))
    capital = graph.look_through(operator, "capital")
    voting = graph.look_through(operator, "voting")
    worst: dict | None = None
    for entity in sorted(set(capital) | set(voting)):
        country = graph.countries.get(entity, "")
        if is_eu(country):
            continue
        share = max(capital.get(entity, 0.0), voting.get(entity, 0.0))
        if worst is None or share > max(worst["capital"], worst["voting"]):
            worst = {
                "entity": entity,
                "name": graph.names.get(entity, entity),
                "country": country,
                "capital": round(capital.get(entity, 0.0), 3),
                "voting": round(voting.get(entity, 0.0), 3),
            }
    total_capital = graph.non_eu_total(operator, "capital", is_eu)
    total_voting = graph.non_eu_total(operator, "voting", is_eu)
    single_ok = worst is None or max(worst["capital"], worst["voting"]) <= SINGLE_THRESHOLD
    # Judged at the register's precision (0.001 %), as the single holder above and as the Rego pack compares them
    # (as_dict): float noise (8.8 + 23.6 + 6.6 = 39.00000000000001) must not fail an operator exactly on the limit.
    total_ok = round(total_capital, 3) <= TOTAL_THRESHOLD and round(total_voting, 3) <= TOTAL_THRESHOLD
    if worst is None:
        lines.append(Line("No entity outside the EU holds any capital or voting rights of {name}.", {"name": name}))
    else:
        verdict = "within" if single_ok else "above"
        lines.append(Line(
            "Largest non-EU holder: {holder} ({country}) with {capital_pct} of capital and {voting_pct} of voting"
            " rights, " + verdict + " the {limit_pct} limit.",
            {"holder": worst["name"], "country": worst["country"], "capital_pct": worst["capital"],
             "voting_pct": worst["voting"], "limit_pct": SINGLE_THRESHOLD}))
    lines.append(Line(
        "Non-EU entities together: {capital_pct} of capital and {voting_pct} of voting rights, "
        + ("within" if total_ok else "above") + " the {limit_pct} limit.",
        {"capital_pct": total_capital, "voting_pct": total_voting, "limit_pct": TOTAL_THRESHOLD}))
    return OwnershipTest(
        passed=seat_in_eu and single_ok and total_ok,
        seat_in_eu=seat_in_eu,
        non_eu_single_max=worst,
        non_eu_total_capital=total_capital,
        non_eu_total_voting=total_voting,
        explanation=[str(line) for line in lines],
        lines=tuple(lines),
    )


def _pct(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} %"
