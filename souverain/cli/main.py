"""``souverain``: manage the server (run, migrate, estate, kb, testbed) and talk to its API."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path
from urllib.parse import quote

import click
from rich.text import Text

from .output import FORMAT_OPTION, console, emit, fail, item, say

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    import django

    django.setup()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="souverain")
@click.option("--profile", default=None, envvar="SOUVERAIN_PROFILE", metavar="NAME",
              help="API client profile: a server and a user, with the token `login` stored for them "
                   "[env SOUVERAIN_PROFILE; default: default].")
def main(profile: str | None) -> None:
    """Souverain — sovereignty-aware hybrid cloud manager."""


# --- server side -------------------------------------------------------------------------------------------


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


@main.command()
@click.option("--example/--no-example", default=True, help="Load the example estate from examples/estate/.")
@click.option("--admin-user", default="admin", show_default=True)
def setup(example: bool, admin_user: str) -> None:
    """Migrate, load the knowledge base, the example estate, and create the admin user (idempotent)."""
    _django()
    from django.core.management import call_command

    from .setup import ensure_admin, ensure_keys, load_example

    call_command("migrate", interactive=False, verbosity=0)
    ensure_keys()
    _kb_load()
    if example:
        load_example()
    ensure_admin(admin_user)


@main.command()
@click.option("--addr", default=os.environ.get("SOUVERAIN_ADDR", "127.0.0.1:8000"), show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Web processes (default: SOUVERAIN_WEB_WORKERS, else 2 × CPUs + 1, at most 8).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads per web process (default: SOUVERAIN_WEB_THREADS, else 4).")
def run(addr: str, workers: int | None, threads: int | None) -> None:
    """Serve the API and the portal with gunicorn; without a broker, the embedded worker runs beside it."""
    _django()
    from souverain.core.startup import refuse_insecure_start
    from souverain.project.server import serve

    refuse_insecure_start(addr)

    console.print(f"Souverain on http://{addr}/  (API docs: http://{addr}/api/docs/)")
    sys.exit(serve(addr, workers=workers, threads=threads))


@main.group()
def kb() -> None:
    """The sovereignty knowledge base."""


def _kb_load(extra_dir: str | None = None) -> None:
    from souverain.sovereignty.services import load_knowledge_base

    for result in load_knowledge_base(extra_dir):
        summary = f"{len(result.changes)} change(s)" if result.changes else "unchanged"
        console.print(f"kb {result.file} {result.version}: {summary}")


@kb.command("load")
@click.option("--extra-dir", default=None, help="Directory of operator additions (default SOUVERAIN_KB_EXTRA_DIR).")
def kb_load(extra_dir: str | None) -> None:
    """Load the packaged knowledge base files (idempotent; records what a new version changed)."""
    _django()
    from souverain.sovereignty.kb import KnowledgeBaseError

    try:
        _kb_load(extra_dir)
    except KnowledgeBaseError as exc:
        fail(str(exc))


@main.group()
def estate() -> None:
    """Describe the estate in a file (souverain.yaml): validate it, apply it."""


@estate.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@FORMAT_OPTION
def estate_validate(file: str, fmt: str) -> None:
    """Check an estate file; report every problem with its line and column."""
    from souverain.estate import estatefile
    from souverain.sovereignty.kb import packaged

    try:
        estatefile.load(file, packaged(os.environ.get("SOUVERAIN_KB_EXTRA_DIR") or None))
    except estatefile.EstateFileError as exc:
        _report_problems(exc, fmt)
    if fmt == "json":
        emit({"valid": True, "file": file, "problems": []}, fmt)
    else:
        console.print(f"{file}: valid")


def _report_problems(exc: object, fmt: str) -> None:
    problems = exc.problems  # type: ignore[attr-defined]
    if fmt == "json":
        emit({"valid": False, "problems": [p.as_dict() for p in problems]}, fmt)
    else:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(problems)} problem(s); nothing was changed.", err=True)
    raise SystemExit(1)


@estate.command("apply")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--prune", is_flag=True, help="Also remove clouds, datacenters and entities absent from the file.")
@FORMAT_OPTION
def estate_apply(file: str, prune: bool, fmt: str) -> None:
    """Apply an estate file atomically: all of it, or nothing."""
    _django()
    from souverain.core.context import acting_as
    from souverain.estate import estatefile, services

    try:
        with acting_as(os.environ.get("USER", "cli"), "cli"):
            report = services.apply_file(file, prune=prune)
    except estatefile.EstateFileError as exc:
        _report_problems(exc, fmt)
        return
    if fmt == "json":
        emit(report.as_dict(), fmt)
        return
    for bucket in ("created", "updated", "removed"):
        counts = getattr(report, bucket)
        if counts:
            console.print(f"{bucket}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    if not (report.created or report.updated or report.removed):
        console.print("the database already matches the file")


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command."""
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["souverain manage", *args])


# --- API client ---------------------------------------------------------------------------------------------


def _profile() -> str | None:
    return click.get_current_context().find_root().params.get("profile")


def _client():  # noqa: ANN202
    from .client import ApiError, Client

    try:
        return Client(profile=_profile())
    except ApiError as exc:
        fail(str(exc))


def _default_url() -> str:
    from .client import DEFAULT_URL, ApiError, load_profile

    try:
        stored = load_profile(_profile()).get("url")
    except ApiError:
        stored = None
    return os.environ.get("SOUVERAIN_URL") or stored or DEFAULT_URL


@main.command()
@click.option("--url", default=_default_url, show_default="SOUVERAIN_URL, the profile's server, or "
              "http://127.0.0.1:8000")
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True, envvar="SOUVERAIN_PASSWORD")
def login(url: str, username: str, password: str) -> None:
    """Log in to a Souverain server and keep the API token in the profile's file (readable by you only)."""
    import requests

    from .client import ApiError, save_token

    try:
        response = requests.post(f"{url.rstrip('/')}/api/auth/token/",
                                 json={"username": username, "password": password,
                                       "name": f"souverain login ({platform.node()[:60]})"}, timeout=60)
    except requests.RequestException as exc:
        fail(f"cannot reach the Souverain server at {url}: {type(exc).__name__}")
        return
    if response.status_code in (403, 429):
        fail(_detail(response))  # a password to change first, or too many failed logins: the server says which
    if response.status_code != 200:
        fail("wrong username or password")
    try:
        path = save_token(url.rstrip("/"), response.json()["token"], username=username, profile=_profile())
    except ApiError as exc:
        fail(str(exc))
        return
    console.print(f"logged in to {url} as {username} (token in {path})", highlight=False)


def _detail(response: object) -> str:
    try:
        return str(response.json().get("detail"))  # type: ignore[attr-defined]
    except ValueError:
        return f"refused ({response.status_code})"  # type: ignore[attr-defined]


def _sorted(rows: list[dict], *keys: str) -> list[dict]:
    """Rows in a stable order (natural: web-2 before web-10), and each list value sorted likewise, so that two
    runs print the same thing whatever order the server's joins returned."""
    from souverain.inventory.natural import natural_key

    for row in rows:
        for name, value in row.items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                row[name] = sorted(value, key=natural_key)
    return sorted(rows, key=lambda row: [natural_key(str(row.get(k) or "")) for k in keys])


def _api_call(fn):  # noqa: ANN001, ANN202
    from .client import ApiError

    try:
        return fn()
    except ApiError as exc:
        fail(str(exc))


@main.group()
def clouds() -> None:
    """Clouds of the estate."""


@clouds.command("list")
@FORMAT_OPTION
def clouds_list(fmt: str) -> None:
    """Every cloud by slug: its kind, operator and regions (JSON: every field; `region exposure`: the rest)."""
    data = _sorted(_api_call(lambda: _client().list_all("/api/clouds/")), "slug")
    emit(data, fmt, [("slug", "Cloud"), ("kind", "Kind"), ("operator", "Operator"), ("regions", "Regions")])


@main.group()
def regions() -> None:
    """Regions of the estate."""


@regions.command("list")
@click.option("--cloud", default=None)
@FORMAT_OPTION
def regions_list(cloud: str | None, fmt: str) -> None:
    """Every region by cloud/region key: its datacenters and backup sites (JSON: every field, zones too)."""
    data = _sorted(_api_call(lambda: _client().list_all("/api/regions/", cloud=cloud)), "key")
    emit(data, fmt, [("key", "Region"), ("datacenters", "Datacenters"), ("backup_datacenters", "Backup sites")])


@main.group()
def region() -> None:
    """One region."""


@region.command("exposure")
@click.argument("region_key", metavar="REGION")
@click.option("--on", "on", default=None, help="Decision date YYYY-MM-DD (default today).")
@FORMAT_OPTION
def region_exposure(region_key: str, on: str | None, fmt: str) -> None:
    """Foreign laws that can reach REGION (cloud/region) and why, on a date."""
    if on:
        try:
            dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--on: '{on}' is not a date (YYYY-MM-DD)")
    client = _client()
    cloud_slug, _, region_slug = region_key.rpartition("/")
    matches = _api_call(lambda: client.list_all("/api/regions/", cloud=cloud_slug or None, slug=region_slug))
    if len(matches) != 1:
        fail(f"region '{region_key}' not found" if not matches else f"'{region_key}' is ambiguous: use cloud/region")
    data = _api_call(lambda: client.get(f"/api/regions/{matches[0]['id']}/exposure/", on=on))
    if fmt == "json":
        emit(data, fmt)
        return
    from .exposure_view import print_exposure

    print_exposure(data)


def _read_structured(path: str) -> dict:
    # The estate file's bounded loader: no alias bomb, deep nesting or undecodable byte gets past it.
    from souverain.estate import estatefile

    try:
        data, _ = estatefile.read_mapping(path)
    except estatefile.EstateFileError as exc:
        problem = exc.problems[0]
        if problem.message == "the document must be a mapping":
            fail(f"{path}: a workload is a mapping (see docs/policies.md)")
        fail(str(problem))
    return data


@main.command()
@click.option("--workload", "workload_file", required=True, type=click.Path(dir_okay=False),
              help="Workload descriptor (YAML or JSON).")
@click.option("--on", "on", default=None, help="Decision date YYYY-MM-DD (default today).")
@click.option("--estate", "estate_file", default=None, type=click.Path(dir_okay=False),
              help="Evaluate against an estate file, without a database or server (what-if).")
@FORMAT_OPTION
def place(workload_file: str, on: str | None, estate_file: str | None, fmt: str) -> None:
    """Where may a workload go? Allowed regions ranked; every denial with its reasons."""
    workload = _read_structured(workload_file)
    if on:
        try:
            dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--on: '{on}' is not a date (YYYY-MM-DD)")
    if estate_file:
        result = _place_offline(workload, estate_file, on)
    else:
        result = _api_call(lambda: _client().request("POST", "/api/placement/", json={"workload": workload, "on": on}))
    if fmt == "json":
        emit({"allowed": result["allowed"], "denied": result["denied"]}, fmt)
        return
    from .placement_view import print_placement

    print_placement(result)


def _place_offline(workload: dict, estate_file: str, on: str | None) -> dict:
    """No database and no Django: the estate file, the packaged knowledge base and the packs, read by the pure
    modules alone (a what-if from the shell answers in about a second; test_cli_offline checks Django stays
    out)."""
    from souverain.estate import estatefile, snapshot
    from souverain.policy import placement
    from souverain.policy.engine import Engine
    from souverain.policy.workloads import WorkloadError
    from souverain.sovereignty.kb import packaged

    kb = packaged(os.environ.get("SOUVERAIN_KB_EXTRA_DIR") or None)
    try:
        doc = estatefile.load(estate_file, kb)
    except estatefile.EstateFileError as exc:
        _report_problems(exc, "table")
    try:
        return placement.place_offline(workload, dt.date.fromisoformat(on) if on else dt.date.today(),
                                       snapshot.from_document(doc), kb, Engine())
    except WorkloadError as exc:
        fail("; ".join(exc.problems))
        raise


@main.group()
def policy() -> None:
    """Operators' own Rego policies: upload (compiled and tested first), list, versions."""


@policy.command("upload")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--tests", "tests_file", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The policy's Rego tests (test_ rules), run before activation.")
@FORMAT_OPTION
def policy_upload(name: str, file: str, tests_file: str, fmt: str) -> None:
    """Upload FILE as a new version of policy NAME (package souverain.custom.NAME)."""
    from .client import ApiError

    source = Path(file).read_text(encoding="utf-8")
    tests = Path(tests_file).read_text(encoding="utf-8")
    try:
        body = _client().request("POST", "/api/policies/upload/",
                                 json={"name": name, "source": source, "tests": tests})
    except ApiError as exc:
        if exc.status == 422:
            body = exc.body
        else:
            fail(str(exc))
            return
    if fmt == "json":
        emit(body, fmt)
    else:
        for error in body.get("errors", []):
            where = f"{file}:{error['line']}:{error['column']}" if error.get("line") else file
            click.echo(f"{where}: {error['message']}", err=True)
        for failed in (body.get("tests") or {}).get("failed", []):
            click.echo(f"test failed: {failed['name']}: {failed['message']}", err=True)
        console.print(f"{name} v{body['number']}: {body['status']}")
    if body.get("status") != "active":
        raise SystemExit(1)


@policy.command("list")
@FORMAT_OPTION
def policy_list(fmt: str) -> None:
    data = _api_call(lambda: _client().list_all("/api/policies/"))
    emit(data, fmt, [("name", "Policy"), ("active_version", "Active version"), ("description", "Description")])


@main.group()
def compliance() -> None:
    """Continuous compliance: violations of the inventory against the active policies."""


@compliance.command("report")
@click.option("--tenant", default=None, help="Only this tenant's violations (tenant users: always theirs).")
@click.option("--severity", default=None, type=click.Choice(["critical", "high", "medium"]))
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved violations.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table: a list per violation; csv and json: every violation's fields.")
def compliance_report(tenant: str | None, severity: str | None, include_resolved: bool, fmt: str) -> None:
    """Open violations, most severe first, by tenant, region and resource, with the rule and why."""
    from .client import ApiError

    client = _client()
    if tenant:
        # Like `place`: an unknown tenant (or another tenant's, for a tenant user) is an error, not "0 violations".
        try:
            client.get(f"/api/tenants/{quote(tenant, safe='')}/")
        except ApiError as exc:
            fail(f"tenant: unknown tenant '{tenant}'" if exc.status == 404 else str(exc))
    params = {"tenant": tenant, "severity": severity, "open": None if include_resolved else "true"}
    rows = _api_call(lambda: client.list_all("/api/compliance/violations/", **params))
    rows = sorted(_sorted(rows, "tenant", "region", "resource_name", "rule"),
                  key=lambda row: SEVERITY_ORDER.get(row.get("severity"), len(SEVERITY_ORDER)))
    columns = [("severity", "Severity"), ("tenant", "Tenant"), ("region", "Region"), ("resource_kind", "Kind"),
               ("resource_name", "Resource"), ("rule", "Rule"), ("message", "Why"), ("first_seen", "Since"),
               ("resolved_at", "Resolved")]
    if fmt != "table":
        emit(rows, fmt, columns)
        return
    say(f"{len(rows)} violation(s)" + (f" of tenant {tenant}" if tenant else ""))
    for row in rows:
        item(Text.assemble((str(row.get("severity") or "").upper(), "bold red"), "  ",
                           f"{row.get('resource_kind')} ", (str(row.get("resource_name") or ""), "bold"),
                           f"  {row.get('region')}  tenant {row.get('tenant') or '-'}  since "
                           f"{str(row.get('first_seen') or '')[:10]}"), 0)
        item(Text.assemble((f"{row.get('rule')}: ", "bold"), str(row.get("message") or "")), 2)


@compliance.command("run")
def compliance_run() -> None:
    """Queue a full compliance pass now."""
    body = _api_call(lambda: _client().request("POST", "/api/compliance/passes/run/"))
    console.print(f"compliance pass queued (job {body['job']})")


@main.group()
def testbed() -> None:
    """A real OpenStack (two clouds) on loopback, for trying Souverain and for its tests."""


def _testbed_module():  # noqa: ANN202
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        import testbed as module
    except ImportError:
        fail("the test-bed ships with the source tree (testbed/); run from a clone of the repository")
    return module


@testbed.command("up")
def testbed_up() -> None:
    path = _testbed_module().up()
    console.print(f"test-bed up; clouds.yaml: {path}")


@testbed.command("down")
def testbed_down() -> None:
    _testbed_module().down()


@testbed.command("status")
def testbed_status() -> None:
    module = _testbed_module()
    rows = [dict(zip(("cloud", "service", "pid", "state", "url"), map(str, row), strict=False))
            for row in module.status()]
    emit(rows, "table")


@testbed.command("reset")
def testbed_reset() -> None:
    _testbed_module().reset()


# --- inventory ----------------------------------------------------------------------------------------------


@main.group()
def inventory() -> None:
    """The inventory of every cloud, through the API (`souverain sync` fills it)."""


INVENTORY_COLUMNS = [("name", "Name"), ("kind", "Kind"), ("where", "Region"), ("status", "Status"),
                     ("tenant", "Tenant")]
INVENTORY_EXPORT = [("id", "id"), ("kind", "kind"), ("cloud", "cloud"), ("region", "region"),
                    ("project_id", "project_id"), ("tenant", "tenant"), ("external_id", "external_id"),
                    ("name", "name"), ("status", "status"), ("tags", "tags"), ("managed", "managed"),
                    ("first_seen", "first_seen"), ("last_seen", "last_seen"), ("gone_at", "gone_at")]


def _multi(help_text: str):  # noqa: ANN202
    return {"multiple": True, "metavar": "VALUE", "help": help_text + " (repeatable, or comma-separated)"}


@inventory.command("list")
@click.option("--cloud", "clouds", **_multi("Cloud slug"))
@click.option("--region", "regions", **_multi("Region slug, or cloud/region"))
@click.option("--tenant", "tenants", **_multi("Tenant slug"))
@click.option("--kind", "kinds", **_multi("server, volume, network, port, quota..."))
@click.option("--status", "statuses", **_multi("The cloud's status (case does not matter)"))
@click.option("--tag", "tags", **_multi("Has this tag (all of them when repeated)"))
@click.option("--project", "project_id", default=None, help="The cloud project's id.")
@click.option("-q", "--search", "q", default=None,
              help="Name contains (starts with, under 3 characters), or the cloud's id is.")
@click.option("--presence", type=click.Choice(["present", "gone", "all"]), default="present", show_default=True)
@click.option("--mapped/--unmapped", default=None, help="Only resources whose project maps to a tenant, or not.")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="At most this many rows (table default: 200; 0: all; json and csv: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def inventory_list(clouds: tuple[str, ...], regions: tuple[str, ...], tenants: tuple[str, ...],
                   kinds: tuple[str, ...], statuses: tuple[str, ...], tags: tuple[str, ...], project_id: str | None,
                   q: str | None, presence: str, mapped: bool | None, limit: int | None, fmt: str) -> None:
    """Resources of the inventory with the API's filters, in natural name order (web-2 before web-10).

    Pages through the API (a thousand rows a request): json and csv stream every matching row, the table
    shows the first 200 unless --limit says otherwise. Tenant users see their tenant's resources only.
    """
    params = {"cloud": list(clouds), "region": list(regions), "tenant": list(tenants), "kind": list(kinds),
              "status": list(statuses), "tag": list(tags), "project_id": project_id, "q": q, "presence": presence,
              "mapped": None if mapped is None else str(mapped).lower()}
    from .client import PAGE_SIZE, ApiError
    from .output import write_csv

    wanted = (200 if fmt == "table" else 0) if limit is None else limit
    rows: list[dict] = []
    shown = total = 0
    capped = False  # the API counts up to a cap: "10000+ resource(s)" beyond it
    page_size = min(wanted, PAGE_SIZE) if wanted else PAGE_SIZE
    try:
        for page in _client().pages("/api/inventory/resources/", page_size=page_size, **params):
            total, capped = page["count"], page.get("count_capped", False)
            batch = page["results"][:wanted - shown] if wanted else page["results"]
            if fmt == "csv":  # streamed page by page: a million rows never sit in memory
                write_csv(batch, INVENTORY_EXPORT, header=not shown)
            shown += len(batch)
            if fmt != "csv":
                rows.extend(batch)
            if wanted and shown >= wanted:
                break
    except ApiError as exc:
        fail(str(exc))
    if fmt == "json":
        emit(rows, fmt)
    elif fmt == "table":
        for row in rows:
            row["where"] = f"{row.get('cloud')}/{row.get('region')}"
        emit(rows, fmt, INVENTORY_COLUMNS)
        more = f"; the first {shown} shown (--limit 0 for all, or --format csv)" if shown < total else ""
        say(f"{total}{'+' if capped else ''} resource(s){more}")


@main.command()
@click.argument("clouds", nargs=-1, metavar="[CLOUD]...")
@click.option("--full", is_flag=True, help="List everything and mark what vanished gone (default: incremental).")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (server, volume, network...); repeatable.")
@click.option("--no-wait", is_flag=True, help="Queue the sync and return its job id.")
@FORMAT_OPTION
def sync(clouds: tuple[str, ...], full: bool, kinds: tuple[str, ...], no_wait: bool, fmt: str) -> None:
    """Sync the inventory of CLOUD(s) (default: every cloud whose credentials are found), with a progress bar per
    cloud.

    A server-side command, like `estate apply`: it uses the database of this machine's settings. The job is
    queued like any other: with CELERY_BROKER_URL set a Celery worker runs it; otherwise this command runs
    it here (or the running server's worker does, if it claims it first). Credentials are read by the process
    that runs the sync: a clouds.yaml entry from its OS_CLIENT_CONFIG_FILE (else ./clouds.yaml,
    ~/.config/openstack/, /etc/openstack/), or credentials encrypted in the database; this command prints
    where it finds each cloud's. Exit status: 0 done, 1 failed, 2 partly done (some kinds or clouds stale).
    """
    _django()
    from souverain.inventory import services
    from souverain.jobs import console as job_console
    from souverain.jobs.api.serializers import JobSerializer  # --format json: the API's representation
    from souverain.jobs.services import celery_enabled

    if fmt == "table" and not no_wait and not celery_enabled():
        # Before queueing: between the job's creation and this process claiming it, a running server's worker
        # (which reads its own environment's credentials) may claim it; keep that window as short as can be.
        _print_credentials(list(clouds))
    try:
        job = services.request_sync(clouds, full=full, kinds=kinds, requested_by=os.environ.get("USER", "cli"))
    except ValueError as exc:
        fail(str(exc))
        return
    if no_wait:
        if fmt == "json":
            emit({"job": job.pk, "status": job.status}, fmt)
        else:
            console.print(f"queued job {job.pk}")
        return
    if not celery_enabled():
        _summary_reports_sync_warnings()
        job_console.run_here_if_free(job.pk)
    finished = job_console.watch(job.pk, console) if fmt == "table" else _wait_quietly(job.pk)
    if fmt == "json":
        emit(dict(JobSerializer(finished).data), fmt)
    else:
        job_console.summary(finished, console)
    raise SystemExit(job_console.EXIT_CODES.get(finished.status, 1))


def _print_credentials(slugs: list[str]) -> None:
    """Where this process finds each cloud's credentials: a sync run by the server reads its own environment."""
    from souverain.estate.models import Cloud
    from souverain.inventory import credentials

    clouds = list(Cloud.objects.filter(slug__in=slugs) if slugs else Cloud.objects.all())
    located = credentials.locate_all(clouds)
    for cloud in sorted(clouds, key=lambda c: c.slug):
        source = located[cloud.pk]
        if slugs or source.configured:
            say(f"{cloud.slug}: {source.detail}")


def _summary_reports_sync_warnings() -> None:
    """The sync's warnings (a region or kind that failed) are in its summary and its JSON, and the connector's
    notes (a cloud refusing a time filter) are for the log: the terminal's log handler need not print them
    between the progress bars. A log file still gets them all."""
    import logging

    def keep(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not record.name.startswith(("souverain.inventory",
                                                                              "souverain.connectors"))

    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            handler.addFilter(keep)


def _wait_quietly(job_id: int):  # noqa: ANN202
    from souverain.jobs.services import wait_for

    return wait_for(job_id, timeout=float("inf"))


# --- audit trail (souverain/audit/services.py) -------------------------------------------------------------


@main.group()
def audit() -> None:
    """The tamper-evident audit trail: verify, export, checkpoint."""


def _print_report(report: dict, fmt: str) -> None:
    if fmt == "json":
        emit(report, fmt)
    else:
        say(f"{report['records']} record(s) (seq {report['first_seq']}..{report['last_seq']}), "
            f"{report['checkpoints']} checkpoint(s), head {report['head_hash'][:16]}")
        for problem in report["problems"]:
            say(f"seq {problem['seq'] if problem['seq'] is not None else '-'} {problem['kind']}: "
                f"{problem['message']}")
        say("verified: the chain is intact" if report["ok"] else
            f"FAILED: first bad record seq {report['first_bad_seq']}")
    if not report["ok"]:
        raise SystemExit(1)


@audit.command("verify")
@click.option("--from", "start", default=None, help="First sequence number, or an ISO date or time.")
@click.option("--to", "end", default=None, help="Last sequence number, or an ISO date or time.")
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Verify an export (JSON lines) offline: no server, no database.")
@click.option("--public-key", "public_key", default=None, type=click.Path(dir_okay=False, exists=True),
              help="With --file: the PEM public key (GET /api/audit/public-key/).")
@FORMAT_OPTION
def audit_verify(start: str | None, end: str | None, file: str | None, public_key: str | None, fmt: str) -> None:
    """Recompute the hash chain and check every checkpoint's signature; exit 1 naming the first bad record."""
    if file is not None:
        from souverain.audit import chain  # no Django: runs anywhere the package is installed

        if public_key is None:
            fail("--file needs --public-key (the server's /api/audit/public-key/)")
        try:
            key = chain.load_public_pem(Path(public_key).read_bytes())
            with open(file, encoding="utf-8") as lines:
                report = chain.verify_export(lines, key)
        except (ValueError, UnicodeDecodeError) as exc:
            fail(f"{file}: {exc}")
        _print_report(report.as_dict(), fmt)
        return
    _django()
    from souverain.audit import services

    try:
        report = services.verify(start, end)
    except ValueError as exc:
        fail(str(exc))
    _print_report(report.as_dict(), fmt)


@audit.command("export")
@click.option("--from", "start", default=None, help="First sequence number, or an ISO date or time.")
@click.option("--to", "end", default=None, help="Last sequence number, or an ISO date or time.")
@click.option("--syslog", "syslog_address", default=None, metavar="ADDRESS",
              help="Send them to syslog instead (udp://host:514, tcp://host:514, unix:///dev/log): a back-fill, "
                   "as the live export formats them (RFC 5424, JSON payload).")
def audit_export(start: str | None, end: str | None, syslog_address: str | None) -> None:
    """Write checkpoints then records as JSON lines on standard output (for a SIEM, or verify --file)."""
    _django()
    from souverain.audit import services

    if syslog_address is not None:
        from django.conf import settings

        from souverain.audit import syslog_export

        try:
            records, checkpoints = services.export_objects(start, end)
            sent = syslog_export.backfill(syslog_address, records, checkpoints,
                                          facility=settings.SOUVERAIN_AUDIT_SYSLOG_FACILITY)
        except ValueError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"syslog {syslog_address}: {exc}")
        say(f"sent {sent} message(s) to {syslog_address}")
        return
    try:
        for line in services.export_lines(start, end):
            sys.stdout.write(line + "\n")
    except ValueError as exc:
        fail(str(exc))


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the records appended since the last one, now."""
    _django()
    from souverain.audit import services

    checkpoint = services.make_checkpoint()
    say(f"checkpoint #{checkpoint.number}: seq {checkpoint.first_seq}..{checkpoint.last_seq} "
        f"({checkpoint.count} record(s)), head {checkpoint.head_hash[:16]}")


@audit.command("public-key")
def audit_public_key() -> None:
    """Print the PEM public key that checks the checkpoints' signatures."""
    _django()
    from souverain.audit import services

    sys.stdout.write(services.public_key_pem())


from .tenants import tenants  # noqa: E402  (the organisation tree's commands, in their own module)

main.add_command(tenants)


from .whatif import whatif  # noqa: E402  (the what-if command, in its own file: cli/whatif.py)

main.add_command(whatif)


from .accounts import keys, tokens  # noqa: E402  (API tokens and the credentials key: cli/accounts.py)

main.add_command(tokens)
main.add_command(keys)

from .provisioning import approvals, approve, quotas, reject, requests_group, server  # noqa: E402  (cli/provisioning.py)

for command in (server, requests_group, approvals, approve, reject, quotas):
    main.add_command(command)


from .evidence import evidence  # noqa: E402  (evidence packs: cli/evidence.py)

main.add_command(evidence)


if __name__ == "__main__":
    main()
