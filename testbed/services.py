"""What runs for one cloud: the command line, environment and probe URL of each process."""

from __future__ import annotations

from testbed.layout import PACKAGE_DIR, Cloud, Settings
from testbed.supervise import Proc

WSGI_SHIM_DIR = PACKAGE_DIR / "wsgi"

# Service name -> (WSGI module:attribute, port name in layout.PORT_OFFSETS)
APIS = {
    "keystone": ("keystone.wsgi.api:application", "keystone"),
    "placement": ("placement.wsgi.api:application", "placement"),
    "glance-api": ("glance.wsgi.api:application", "glance"),
    "neutron-api": ("neutron.wsgi.api:application", "neutron"),
    "nova-api": ("nova.wsgi.osapi_compute:application", "nova"),
    "cinder-api": ("cinder.wsgi.api:application", "cinder"),
}


def _env() -> dict[str, str]:
    # Deprecation chatter from the services' own imports would drown the logs CI prints on failure.
    return {"PYTHONWARNINGS": "ignore::DeprecationWarning", "PYTHONUNBUFFERED": "1"}


def _gunicorn(s: Settings, c: Cloud, name: str, env: dict[str, str], argv: str = "") -> Proc:
    app, port_name = APIS[name]
    argv_cmd = [
        s.bin("gunicorn"),
        "--bind", f"127.0.0.1:{c.port(port_name)}",
        "--workers", "1",
        "--worker-class", "gthread",
        "--threads", "8",
        "--timeout", "300",
        "--graceful-timeout", "5",
        # gunicorn 26 shares one control socket between instances (pitfall 4).
        "--no-control-socket",
        # Nova builds very long URLs when it pages through many servers (pitfall 9).
        "--limit-request-line", "0",
        "--limit-request-field_size", "65536",
        "--name", f"testbed-{c.name}-{name}",
        "--access-logfile", str(s.logs / f"{c.name}-{name}.access.log"),
        "--pythonpath", str(WSGI_SHIM_DIR),
        "testbed_wsgi:application",
    ]  # fmt: skip
    probe = f"http://127.0.0.1:{c.port(port_name)}/"
    # The shim blanks sys.argv before the app parses it with oslo.config (pitfall 3).
    shim_env = {"TESTBED_WSGI_APP": app, "TESTBED_WSGI_ARGV": argv or name}
    return Proc(c.name, name, argv_cmd, {**_env(), **shim_env, **env}, probe)


def _daemon(s: Settings, c: Cloud, name: str, *config_files: str) -> Proc:
    argv = [s.bin(name.split(":")[0])]
    for path in config_files:
        argv += ["--config-file", path]
    return Proc(c.name, name.split(":")[-1], argv, _env())


def core_processes(s: Settings, c: Cloud) -> list[Proc]:
    """Everything but the compute hosts, in start order (Keystone first: the rest authenticate against it)."""
    etc = {svc: s.etc_dir(c, svc) for svc in ("keystone", "placement", "nova", "glance", "neutron", "cinder")}
    nova_conf = str(etc["nova"] / "nova.conf")
    neutron_conf = str(etc["neutron"] / "neutron.conf")
    cinder_conf = str(etc["cinder"] / "cinder.conf")
    return [
        _gunicorn(s, c, "keystone", {"OS_KEYSTONE_CONFIG_DIR": str(etc["keystone"])}),
        _gunicorn(s, c, "placement", {"OS_PLACEMENT_CONFIG_DIR": str(etc["placement"])}),
        _gunicorn(s, c, "glance-api", {"OS_GLANCE_CONFIG_DIR": str(etc["glance"])}),
        # Neutron would also read plugins/ml2/ml2_conf.ini: the ML2 sections are in neutron.conf instead.
        _gunicorn(
            s,
            c,
            "neutron-api",
            {"OS_NEUTRON_CONFIG_DIR": str(etc["neutron"]), "OS_NEUTRON_CONFIG_FILES": "neutron.conf"},
        ),
        _daemon(s, c, "neutron-rpc-server:neutron-rpc", neutron_conf),
        # Nova finds api-paste.ini and nova.conf in its config dir (pitfall 5).
        _gunicorn(s, c, "nova-api", {"OS_NOVA_CONFIG_DIR": str(etc["nova"])}),
        _daemon(s, c, "nova-conductor", nova_conf),
        _daemon(s, c, "nova-scheduler", nova_conf),
        _gunicorn(s, c, "cinder-api", {}, argv=f"cinder-api --config-file {cinder_conf}"),
        _daemon(s, c, "cinder-scheduler", cinder_conf),
        _daemon(s, c, "cinder-volume", cinder_conf),
    ]


def compute_processes(s: Settings, c: Cloud) -> list[Proc]:
    nova_dir = s.etc_dir(c, "nova")
    return [
        _daemon(
            s,
            c,
            f"nova-compute:nova-compute-{i}",
            str(nova_dir / "nova.conf"),
            str(nova_dir / f"nova-compute-{i}.conf"),
        )
        for i in range(1, s.computes + 1)
    ]


def processes(s: Settings, c: Cloud) -> list[Proc]:
    return core_processes(s, c) + compute_processes(s, c)
