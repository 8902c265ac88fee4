"""The provenance block: where the numbers come from (command, commit, the code identities of the runs, versions,
device, data source, wall time, cache and reference-record use) as label/value pairs, and the data-source badge
shown at the top of the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from reports.display import NO_VALUE, fmt_seconds

# Keys shown elsewhere in the report (title, comparison) or in their own row below.
_SHOWN_ELSEWHERE = frozenset({"study_description", "variant_rows", "feature_variants", "data_check"})
_LABELLED = (
    ("command", "Command"),
    ("git_commit", "Git commit"),
    ("code", "Code"),
    ("device", "Device"),
    ("data_source", "Data source"),
    ("data_roots", "Data roots"),
    ("profile", "Profile"),
    ("weights", "Starting weights"),
    ("wall_seconds", "Wall time"),
    ("cache", "Stage cache"),
    ("floor", "Untrained floor"),
    ("ceiling", "Identity-label ceiling"),
    ("reference_variant", "Reference variant (Δ)"),
    ("versions", "Versions"),
)


@dataclass(frozen=True)
class Badge:
    label: str
    css: str
    explanation: str


@dataclass(frozen=True)
class ProvenanceItem:
    """One line of the block; code renders the value monospaced, badge puts the data badge before it."""

    label: str
    value: str
    code: bool = False
    badge: bool = False


def data_badge(provenance: Mapping[str, Any]) -> Badge:
    """SYNTHETIC is loud on purpose: numbers from the stand-in data must never pass for paper numbers."""
    source = provenance.get("data_source")
    if source == "synthetic":
        return Badge(
            "SYNTHETIC DATA",
            "synthetic",
            "Built-in synthetic stand-ins of the datasets: absolute numbers are not comparable with published "
            "results; only differences between variants are.",
        )
    if source == "real":
        return Badge("REAL DATA", "real", "Real SYSU-MM01 / RegDB data.")
    return Badge("DATA SOURCE UNKNOWN", "unknown", "provenance.json does not say which data produced these numbers.")


def weights_badge(provenance: Mapping[str, Any]) -> Badge | None:
    """FROM SCRATCH when a run started from random weights: every published result starts from ImageNet."""
    starts = provenance.get("weights") or []
    if not any(isinstance(start, Mapping) and start.get("choice") == "none" for start in starts):
        return None
    return Badge(
        "FROM SCRATCH",
        "unknown",
        "Trained from random initialisation (--pretrained none); published results start from ImageNet weights.",
    )


def _start_text(start: Mapping[str, Any]) -> str:
    if start.get("choice") == "none":
        return f"{start.get('backbone', '?')}: none — random initialisation (trained from scratch)"
    sha = str(start.get("sha256", ""))
    return (
        f"{start.get('backbone', '?')}: {start.get('description', start.get('choice'))}, {start.get('file', '?')} "
        f"(sha256 {sha[:16]}…)"
    )


def provenance_items(provenance: Mapping[str, Any]) -> list[ProvenanceItem]:
    """The known keys in a fixed order, then any others the harness added, each rendered as text."""
    items = [
        ProvenanceItem(
            label, _render(key, provenance[key]), code=key in ("command", "git_commit"), badge=key == "data_source"
        )
        for key, label in _LABELLED
        if key in provenance
    ]
    known = {key for key, _ in _LABELLED} | _SHOWN_ELSEWHERE
    items += [ProvenanceItem(key, _render(key, value)) for key, value in provenance.items() if key not in known]
    return items


def _render(key: str, value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return NO_VALUE
    if key == "data_roots" and isinstance(value, Mapping) and not any(value.values()):
        return "none (built-in synthetic stand-ins)"
    if key == "weights" and isinstance(value, list):
        return "; ".join(_start_text(start) for start in value if isinstance(start, Mapping)) or NO_VALUE
    if key == "wall_seconds":
        return fmt_seconds(value)
    if key == "cache" and isinstance(value, Mapping):
        text = f"{value.get('hits', NO_VALUE)} hits, {value.get('misses', NO_VALUE)} misses"
        by_stage = value.get("hits_by_stage")
        if by_stage:
            text += " (hits by stage: " + ", ".join(f"{stage} {count}" for stage, count in by_stage.items()) + ")"
        return text
    if key == "code" and isinstance(value, Mapping):
        return _code_text(value)
    if key in ("floor", "ceiling") and isinstance(value, Mapping):
        return f"{value.get('computed', NO_VALUE)} computed, {value.get('reused', NO_VALUE)} reused from records"
    if isinstance(value, Mapping):
        return " · ".join(f"{name} {_render(name, item)}" for name, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_render(key, item) for item in value)
    return str(value)


def _identity_text(identity: Mapping[str, Any]) -> str:
    if not identity.get("source"):
        return "code that recorded no identity"
    dirty = {True: ", uncommitted changes", False: "", None: ""}.get(identity.get("dirty"), "")
    return f"source {identity['source']} (commit {str(identity.get('commit', '?'))[:12]}{dirty})"


def _code_text(code: Mapping[str, Any]) -> str:
    """This command's code, then each code the results came from, with how many runs and whether kept stale."""
    parts = [f"this run: {_identity_text(code.get('current') or {})}"]
    for found in code.get("results") or []:
        if isinstance(found, Mapping):
            kept = " — stale, kept with --keep-stale" if found.get("stale") else ""
            parts.append(f"{found.get('runs', '?')} run(s) by {_identity_text(found)}{kept}")
    return "; ".join(parts)
