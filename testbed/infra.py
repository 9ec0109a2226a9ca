"""MariaDB and RabbitMQ: use the servers already listening on 127.0.0.1, otherwise run the test-bed's own.

The choice is recorded in <state>/infra.json at the first `up` and kept until `reset`, so a server that appears
later never silently swaps the test-bed's data for an empty database.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from testbed import install, supervise
from testbed.layout import Cloud, Settings, TestbedError
from testbed.supervise import Proc

SYSTEM_MYSQL_PORT = 3306
SYSTEM_RABBIT_PORT = 5672
INFRA = "infra"  # the pseudo-cloud name of the test-bed's own MariaDB/RabbitMQ processes


@dataclass(frozen=True)
class Infra:
    db: str  # system | own
    mq: str  # system | own
    db_port: int
    mq_port: int

    @property
    def db_base(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.db_port}"

    @property
    def rabbit_base(self) -> str:
        return f"rabbit://guest:guest@127.0.0.1:{self.mq_port}/"


def port_open(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _record(s: Settings) -> Path:
    return s.state_dir / "infra.json"


def recorded(s: Settings) -> Infra | None:
    try:
        return Infra(**json.loads(_record(s).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _choose(s: Settings, what: str, port: int) -> str:
    if s.infra == "own":
        return "own"
    if port_open(port):
        return "system"
    if s.infra == "system":
        raise TestbedError(f"SOUVERAIN_TESTBED_INFRA=system but no {what} listens on 127.0.0.1:{port}")
    return "own"


def ensure(s: Settings) -> Infra:
    """Decide (once) and make sure MariaDB and RabbitMQ answer; starts the test-bed's own when it needs them."""
    infra = recorded(s)
    if infra is None:
        db = _choose(s, "MariaDB", SYSTEM_MYSQL_PORT)
        mq = _choose(s, "RabbitMQ", SYSTEM_RABBIT_PORT)
        wanted = (["mariadb-server"] if db == "own" else []) + (["rabbitmq-server"] if mq == "own" else [])
        if wanted:
            install.ensure_debian_packages(s, wanted)
            # Debian's postinst may have started the freshly installed server: then it is the system one.
            if s.infra == "auto":
                db = "system" if db == "own" and port_open(SYSTEM_MYSQL_PORT) else db
                mq = "system" if mq == "own" and port_open(SYSTEM_RABBIT_PORT) else mq
        db_port = SYSTEM_MYSQL_PORT if db == "system" else s.own_port("mysql")
        infra = Infra(db, mq, db_port, SYSTEM_RABBIT_PORT if mq == "system" else s.own_port("rabbit"))
        s.state_dir.mkdir(parents=True, exist_ok=True)
        _record(s).write_text(json.dumps(asdict(infra)) + "\n")
    if infra.db == "own":
        _ensure_own_mariadb(s)
    elif not port_open(SYSTEM_MYSQL_PORT):
        raise TestbedError(
            "MariaDB on 127.0.0.1:3306 does not answer: start it "
            "(start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)"
        )
    if infra.mq == "own":
        _ensure_own_rabbitmq(s)
    elif not port_open(SYSTEM_RABBIT_PORT):
        raise TestbedError("RabbitMQ on 127.0.0.1:5672 does not answer: start it (rabbitmq-server -detached)")
    return infra


def _wait_port(s: Settings, key: str, port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if supervise.running(s, key) is None:
            break
        time.sleep(0.5)
    log = supervise.log_path(s, key)
    raise TestbedError(f"{key} did not open 127.0.0.1:{port}; see {log}:\n{supervise.tail(log, 30)}")


def _ensure_own_mariadb(s: Settings) -> None:
    key = f"{INFRA}-mariadb"
    if supervise.running(s, key) and port_open(s.own_port("mysql")):
        return
    datadir = s.state_dir / "infra" / "mysql"
    socket_path = s.run / "mariadb.sock"
    user = ["--user=root"] if os.geteuid() == 0 else []
    fresh = not (datadir / "mysql").is_dir()
    if fresh:
        datadir.mkdir(parents=True, exist_ok=True)
        _check(
            ["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", *user,
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            "mariadb-install-db",
        )  # fmt: skip
    argv = [
        "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={datadir}", *user,
        "--bind-address=127.0.0.1", f"--port={s.own_port('mysql')}", f"--socket={socket_path}",
        f"--pid-file={s.run / 'mariadb.pidfile'}", "--max-connections=1000", "--innodb-buffer-pool-size=256M",
        "--character-set-server=utf8mb4", "--skip-name-resolve",
    ]  # fmt: skip
    s.run.mkdir(parents=True, exist_ok=True)
    supervise.start(s, Proc(INFRA, "mariadb", argv))
    _wait_port(s, key, s.own_port("mysql"))
    if fresh:
        # --skip-name-resolve: TCP clients from 127.0.0.1 need a root@127.0.0.1 account of their own.
        grant = (
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
        )
        _check(["mariadb", "--no-defaults", f"--socket={socket_path}", "-uroot", "-e", grant], "root@127.0.0.1")


def _rabbit_env(s: Settings) -> dict[str, str]:
    base = s.state_dir / "infra" / "rabbitmq"
    return {
        "HOME": str(base),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(s.logs / "rabbitmq"),
        "RABBITMQ_NODENAME": f"testbed{s.port_base}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(s.own_port("rabbit")),
        "RABBITMQ_DIST_PORT": str(s.own_port("rabbit-dist")),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_EPMD_PORT": str(s.own_port("epmd")),
        "RABBITMQ_PID_FILE": str(s.run / "rabbitmq.pidfile"),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def _ensure_own_rabbitmq(s: Settings) -> None:
    key = f"{INFRA}-rabbitmq"
    if supervise.running(s, key) and port_open(s.own_port("rabbit")):
        return
    env = _rabbit_env(s)
    base = Path(env["HOME"])
    base.mkdir(parents=True, exist_ok=True)
    (base / "enabled_plugins").write_text("[].\n")
    (base / "rabbitmq.conf").write_text("loopback_users.guest = true\n")
    (s.logs / "rabbitmq").mkdir(parents=True, exist_ok=True)
    # epmd run in the foreground in a group of ours: rabbitmq-server would otherwise daemonize one that
    # `down` could not tell from anybody else's.
    epmd = shutil.which("epmd") or next(iter(sorted(Path("/usr/lib/erlang").glob("erts-*/bin/epmd"))), None)
    if epmd is None:
        raise TestbedError("epmd (Erlang) not found although rabbitmq-server is installed")
    if supervise.running(s, f"{INFRA}-epmd") is None:
        supervise.start(s, Proc(INFRA, "epmd", [str(epmd), "-address", "127.0.0.1", "-port", str(s.own_port("epmd"))]))
        _wait_port(s, f"{INFRA}-epmd", s.own_port("epmd"), 30)
    supervise.start(s, Proc(INFRA, "rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env))
    _wait_port(s, key, s.own_port("rabbit"), 180)


def _check(argv: list[str], what: str, env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestbedError(f"{what}: {exc}") from exc
    if result.returncode != 0:
        raise TestbedError(f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def sql(s: Settings, infra: Infra, statements: list[str]) -> str:
    """Run statements as MariaDB's root through PyMySQL in the services' venv (the caller's may lack it);
    returns the rows of the last one, tab-separated."""
    script = (
        "import sys, pymysql\n"
        "c = pymysql.connect(host='127.0.0.1', port=int(sys.argv[1]), user='root', password='',"
        " autocommit=True, connect_timeout=10)\n"
        "cur = c.cursor()\n"
        "for q in sys.argv[2:]:\n"
        "    cur.execute(q)\n"
        "for row in cur.fetchall():\n"
        "    print(*row, sep='\\t')\n"
    )
    return _check([s.bin("python"), "-c", script, str(infra.db_port), *statements], "MariaDB")


def ensure_connections(s: Settings, infra: Infra, wanted: int = 1000) -> None:
    """Debian's MariaDB allows 151 connections; two clouds at work can need more (a runtime setting only)."""
    current = int(sql(s, infra, ["SELECT @@GLOBAL.max_connections"]).strip() or 0)
    if current < wanted:
        sql(s, infra, [f"SET GLOBAL max_connections = {wanted}"])


def create_databases(s: Settings, infra: Infra, c: Cloud) -> None:
    sql(s, infra, [f"CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4" for db in c.databases])


def drop_databases(s: Settings, infra: Infra, c: Cloud) -> None:
    sql(s, infra, [f"DROP DATABASE IF EXISTS {db}" for db in c.databases])


def _rabbitmqctl(s: Settings, infra: Infra, *args: str) -> str:
    if infra.mq == "system":
        return _check(["rabbitmqctl", "-q", *args], f"rabbitmqctl {' '.join(args)}")
    env = {**os.environ, **_rabbit_env(s)}
    return _check(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", *args], f"rabbitmqctl {' '.join(args)}", env)


def ensure_vhosts(s: Settings, infra: Infra, clouds: list[Cloud]) -> None:
    existing = set(_rabbitmqctl(s, infra, "list_vhosts", "name").split())
    for c in clouds:
        if c.vhost not in existing:
            _rabbitmqctl(s, infra, "add_vhost", c.vhost)
        _rabbitmqctl(s, infra, "set_permissions", "-p", c.vhost, "guest", ".*", ".*", ".*")


def delete_vhosts(s: Settings, infra: Infra, clouds: list[Cloud]) -> None:
    existing = set(_rabbitmqctl(s, infra, "list_vhosts", "name").split())
    for c in clouds:
        if c.vhost in existing:
            _rabbitmqctl(s, infra, "delete_vhost", c.vhost)


def own_keys() -> list[str]:
    """Stopped after the OpenStack services, in this order."""
    return [f"{INFRA}-rabbitmq", f"{INFRA}-epmd", f"{INFRA}-mariadb"]
