"""Render every service's configuration and the clouds.yaml, from a cloud, the settings and the infra URLs."""

from __future__ import annotations

import shutil
from pathlib import Path

from testbed.layout import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    DOMAIN,
    SERVICE_PASSWORD,
    Cloud,
    Settings,
)

Value = str | int | bool
Sections = dict[str, dict[str, Value]]

# Generous defaults for every project, so a 2000-server benchmark fits; tests that need a quota error
# lower the quota of their own project through the API.
NOVA_QUOTAS: dict[str, Value] = {
    "instances": 10000,
    "cores": 40000,
    "ram": 40960000,
    "key_pairs": 1000,
    "server_groups": 1000,
    "server_group_members": 10000,
    "metadata_items": 128,
}
NEUTRON_QUOTAS: dict[str, Value] = {
    "quota_network": 1000,
    "quota_subnet": 1000,
    "quota_port": 20000,
    "quota_router": 1000,
    "quota_floatingip": 1000,
    "quota_security_group": 1000,
    "quota_security_group_rule": 10000,
}
CINDER_QUOTAS: dict[str, Value] = {
    "quota_volumes": 5000,
    "quota_snapshots": 5000,
    "quota_gigabytes": 1000000,
    "quota_backups": 1000,
    "quota_backup_gigabytes": 1000000,
}


def write_ini(path: Path, sections: Sections) -> None:
    lines: list[str] = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        for key, value in options.items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            lines.append(f"{key} = {text}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _db(db_base: str, name: str) -> dict[str, Value]:
    # 24+ processes share one MariaDB (151 connections by default on Debian): keep each pool small.
    return {"connection": f"{db_base}/{name}?charset=utf8", "max_pool_size": 5, "max_overflow": 10}


def _authtoken(c: Cloud, user: str) -> dict[str, Value]:
    return {
        "www_authenticate_uri": c.auth_url,
        "auth_url": c.auth_url,
        "auth_type": "password",
        "project_domain_name": DOMAIN,
        "user_domain_name": DOMAIN,
        "project_name": "service",
        "username": user,
        "password": SERVICE_PASSWORD,
        "region_name": c.region,
        "service_token_roles_required": True,
        "memcached_servers": "",
    }


def _service_auth(c: Cloud, user: str) -> dict[str, Value]:
    return {
        "auth_type": "password",
        "auth_url": c.auth_url,
        "project_domain_name": DOMAIN,
        "user_domain_name": DOMAIN,
        "project_name": "service",
        "username": user,
        "password": SERVICE_PASSWORD,
        "region_name": c.region,
        # A busy 2-core machine can be slow to answer: never hang forever, never give up too soon.
        "timeout": 120,
    }


def keystone_conf(s: Settings, c: Cloud, db_base: str) -> Sections:
    data = s.data_dir(c) / "keystone"
    return {
        "DEFAULT": {"use_stderr": True},
        "database": _db(db_base, c.database("keystone")),
        "token": {"provider": "fernet", "expiration": 86400},
        "fernet_tokens": {"key_repository": str(data / "fernet-keys")},
        "fernet_receipts": {"key_repository": str(data / "fernet-keys")},
        "credential": {"key_repository": str(data / "credential-keys")},
        # Without a cache each token validation costs dozens of queries (seconds on a busy 2-core machine).
        # An in-process cache is coherent because Keystone runs a single worker.
        "cache": {"enabled": True, "backend": "dogpile.cache.memory"},
        # bcrypt's default 12 rounds cost ~0.25 s of CPU per password check; every service authenticates.
        "identity": {"password_hash_rounds": 4},
    }


def placement_conf(s: Settings, c: Cloud, db_base: str) -> Sections:
    return {
        "DEFAULT": {"use_stderr": True},
        "placement_database": _db(db_base, c.database("placement")),
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": _authtoken(c, "placement"),
    }


def nova_conf(s: Settings, c: Cloud, db_base: str, rabbit: str) -> Sections:
    data = s.data_dir(c) / "nova"
    return {
        "DEFAULT": {
            "use_stderr": True,
            "transport_url": f"{rabbit}{c.vhost}",
            "compute_driver": "fake.FakeDriverWithoutFakeNodes",
            "state_path": str(data),
            "my_ip": "127.0.0.1",
            "use_rootwrap_daemon": False,
            # Bulk boots (min_count=1000): select_destinations can outlast the 60 s default.
            "rpc_response_timeout": 600,
            # The resource audit re-reads every allocation under the compute lock and starves bulk builds.
            "update_resources_interval": 3600,
            "sync_power_state_interval": -1,
            "heal_instance_info_cache_interval": -1,
            # The fake hypervisor offers 1000 vCPU / 800 GB per host: enough for 2000 small servers.
            "cpu_allocation_ratio": 16.0,
            "ram_allocation_ratio": 16.0,
            "disk_allocation_ratio": 16.0,
        },
        "api": {"auth_strategy": "keystone", "max_limit": s.page_limit},
        "wsgi": {"api_paste_config": str(s.etc_dir(c, "nova") / "api-paste.ini")},
        "api_database": _db(db_base, c.database("nova_api")),
        "database": _db(db_base, c.database("nova")),
        "conductor": {"workers": 1},
        "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
        "filter_scheduler": {"enabled_filters": "ComputeFilter,ImagePropertiesFilter", "track_instance_changes": False},
        "oslo_concurrency": {"lock_path": str(s.data_dir(c) / "locks")},
        "vnc": {"enabled": False},
        "spice": {"enabled": False},
        "oslo_messaging_notifications": {"driver": "noop"},
        "quota": NOVA_QUOTAS,
        "os_vif_ovs": {"ovsdb_connection": "unix:/nonexistent"},
        "keystone_authtoken": _authtoken(c, "nova"),
        "placement": _service_auth(c, "placement"),
        "neutron": {**_service_auth(c, "neutron"), "service_metadata_proxy": False},
        "glance": {"region_name": c.region},
        "cinder": {**_service_auth(c, "cinder"), "os_region_name": c.region},
        "service_user": {**_service_auth(c, "nova"), "send_service_user_token": True},
    }


def nova_compute_conf(s: Settings, c: Cloud, index: int) -> Sections:
    """Overrides for one fake hypervisor: its host name and its own state (the node identity file)."""
    state = s.data_dir(c) / "nova" / f"compute-{index}"
    return {"DEFAULT": {"host": compute_host(c, index), "state_path": str(state)}}


def compute_host(c: Cloud, index: int) -> str:
    return f"{c.name}-compute-{index}"


def glance_conf(s: Settings, c: Cloud, db_base: str) -> Sections:
    data = s.data_dir(c) / "glance"
    return {
        "DEFAULT": {
            "use_stderr": True,
            "enabled_backends": "fs:file",
            "bind_host": "127.0.0.1",
            "workers": 1,
            "api_limit_max": s.page_limit,
            "limit_param_default": s.page_limit,
        },
        "database": _db(db_base, c.database("glance")),
        "glance_store": {"default_backend": "fs"},
        "fs": {"filesystem_store_datadir": str(data / "images")},
        "os_glance_staging_store": {"filesystem_store_datadir": str(data / "staging")},
        "os_glance_tasks_store": {"filesystem_store_datadir": str(data / "tasks")},
        "paste_deploy": {"flavor": "keystone"},
        "oslo_concurrency": {"lock_path": str(s.data_dir(c) / "locks")},
        "keystone_authtoken": _authtoken(c, "glance"),
    }


def neutron_conf(s: Settings, c: Cloud, db_base: str, rabbit: str) -> Sections:
    return {
        "DEFAULT": {
            "use_stderr": True,
            "transport_url": f"{rabbit}{c.vhost}",
            "core_plugin": "ml2",
            # The L3 plugin gives routers and floating IPs through the API; no agent ever implements them.
            "service_plugins": "router",
            "auth_strategy": "keystone",
            "bind_host": "127.0.0.1",
            "api_workers": 1,
            "rpc_workers": 1,
            "rpc_state_report_workers": 0,
            "dhcp_agent_notification": False,
            "notify_nova_on_port_status_changes": True,
            "notify_nova_on_port_data_changes": True,
            "state_path": str(s.data_dir(c) / "neutron"),
            "api_paste_config": str(s.venv / "etc" / "neutron" / "api-paste.ini"),
            "pagination_max_limit": s.page_limit,
        },
        "database": _db(db_base, c.database("neutron")),
        "oslo_concurrency": {"lock_path": str(s.data_dir(c) / "locks")},
        "agent": {"root_helper": "sudo"},
        "keystone_authtoken": _authtoken(c, "neutron"),
        "nova": _service_auth(c, "nova"),
        "quotas": NEUTRON_QUOTAS,
        # ML2 lives in neutron.conf too, so the API and the RPC server read one file.
        "ml2": {
            "type_drivers": "flat,vlan,vxlan,local",
            "tenant_network_types": "vxlan",
            "mechanism_drivers": "agentless",
            "extension_drivers": "port_security",
        },
        "ml2_type_vxlan": {"vni_ranges": "1:100000"},
        "ml2_type_flat": {"flat_networks": "*"},
        "securitygroup": {"firewall_driver": "noop"},
    }


def cinder_conf(s: Settings, c: Cloud, db_base: str, rabbit: str) -> Sections:
    return {
        "DEFAULT": {
            "use_stderr": True,
            "transport_url": f"{rabbit}{c.vhost}",
            "auth_strategy": "keystone",
            "osapi_volume_listen": "127.0.0.1",
            "osapi_volume_workers": 1,
            "osapi_max_limit": s.page_limit,
            "state_path": str(s.data_dir(c) / "cinder"),
            "api_paste_config": str(s.venv / "etc" / "cinder" / "api-paste.ini"),
            # Without it every filter (?name=...) is refused: the default path is /etc/cinder/.
            "resource_query_filters_file": str(s.venv / "etc" / "cinder" / "resource_filters.json"),
            "enabled_backends": "fake",
            "default_volume_type": "__DEFAULT__",
            "my_ip": "127.0.0.1",
            **CINDER_QUOTAS,
        },
        "database": _db(db_base, c.database("cinder")),
        "oslo_concurrency": {"lock_path": str(s.data_dir(c) / "locks")},
        "keystone_authtoken": _authtoken(c, "cinder"),
        "nova": _service_auth(c, "nova"),
        "fake": {
            "volume_backend_name": "fake",
            "volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
        },
    }


def render_cloud(s: Settings, c: Cloud, db_base: str, rabbit: str) -> None:
    """Rewrite every config file of one cloud (cheap, so done at each `up`: env changes take effect on restart)."""
    write_ini(s.etc_dir(c, "keystone") / "keystone.conf", keystone_conf(s, c, db_base))
    write_ini(s.etc_dir(c, "placement") / "placement.conf", placement_conf(s, c, db_base))
    write_ini(s.etc_dir(c, "nova") / "nova.conf", nova_conf(s, c, db_base, rabbit))
    for index in range(1, s.computes + 1):
        write_ini(s.etc_dir(c, "nova") / f"nova-compute-{index}.conf", nova_compute_conf(s, c, index))
    write_ini(s.etc_dir(c, "glance") / "glance-api.conf", glance_conf(s, c, db_base))
    write_ini(s.etc_dir(c, "neutron") / "neutron.conf", neutron_conf(s, c, db_base, rabbit))
    write_ini(s.etc_dir(c, "cinder") / "cinder.conf", cinder_conf(s, c, db_base, rabbit))
    # Nova and Glance look for their paste file beside their config (pitfall 5: never via OS_NOVA_CONFIG_FILES).
    shutil.copyfile(s.venv / "etc" / "nova" / "api-paste.ini", s.etc_dir(c, "nova") / "api-paste.ini")
    shutil.copyfile(s.venv / "etc" / "glance" / "glance-api-paste.ini", s.etc_dir(c, "glance") / "glance-api-paste.ini")
    data = s.data_dir(c)
    for sub in ("locks", "nova", "neutron", "cinder", "glance/images", "glance/staging", "glance/tasks"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    for index in range(1, s.computes + 1):
        (data / "nova" / f"compute-{index}" / "instances").mkdir(parents=True, exist_ok=True)


def clouds_yaml_text(s: Settings) -> str:
    """clouds.yaml for openstacksdk/openstackclient: a member and an admin entry per cloud."""
    out = ["# Written by `python -m testbed up`: the Souverain OpenStack test-bed on loopback.", "clouds:"]
    for c in s.clouds:
        for suffix, user, password, project in (
            ("", "demo", DEMO_PASSWORD, "demo"),
            ("-admin", "admin", ADMIN_PASSWORD, "admin"),
        ):
            out += [
                f"  {c.name}{suffix}:",
                "    auth:",
                f"      auth_url: {c.auth_url}",
                f"      username: {user}",
                f"      password: {password}",
                f"      project_name: {project}",
                f"      user_domain_name: {DOMAIN}",
                f"      project_domain_name: {DOMAIN}",
                f"    region_name: {c.region}",
                "    interface: public",
                "    identity_api_version: 3",
            ]
    return "\n".join(out) + "\n"


def write_clouds_yaml(s: Settings) -> Path:
    text = clouds_yaml_text(s)
    path = s.clouds_yaml
    # Rewritten only when it changes, so readers never see a half-written file during a warm `up`.
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path
