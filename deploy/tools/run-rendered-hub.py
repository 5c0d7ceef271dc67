#!/usr/bin/env python3
"""Starts the built hub exactly as a rendered manifest or the Compose file does,
on a throwaway PostgreSQL, and checks that it becomes ready.

    run-rendered-hub.py HUB_BINARY RENDERED.yaml
    run-rendered-hub.py --compose HUB_BINARY docker-compose.yml SERVICE...

Manifest mode: for each Deployment container whose image is outpost-hub, this
builds what the kubelet would give the process: `args`, `env` (literal values
and configMapKeyRef / secretKeyRef values from the render) and the mounted
Secrets as files under a temp dir (paths in the arguments are mapped there).
Secrets the manifest expects to exist already (a chart's existingSecret), and
placeholders such as "REPLACE-WITH-THE-PEM-CERTIFICATE-CHAIN", get stand-ins:
a throwaway certificate and key, or a token. Compose mode does the same for
the services' `command:` and the volumes /tls and /secret.

Then a throwaway PostgreSQL 15 cluster (initdb + pg_ctl as the postgres OS
user, a free loopback port) gets the login role and database named in the
store URL, with the password the rendered file holds. As many hubs as the
Deployment has replicas (at most 3; every listed service in Compose mode)
start AT ONCE on that store with three local overrides only: --listen on a
free loopback port, and the store URL's host:port pointed at the throwaway cluster
with sslmode=disable (later options win; the rest of the URL is kept).

Passes when every hub logs "hub started", answers GET /readyz 200 (store
reachable) and /healthz 200 over its TLS listener, serves /metrics with
outpost_hub_queue_depth, the schema was migrated exactly once, and each hub
exits 0 on SIGTERM.
"""
import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

PG_BIN = "/usr/lib/postgresql/15/bin/"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def stand_in(path, tmp):
    """Content for a file an existing Secret (or a placeholder) would provide."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith((".crt", ".key", ".pem")):
        cert, key = os.path.join(tmp, "standin.crt"), os.path.join(tmp, "standin.key")
        if not os.path.exists(cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=outpost-hub",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", key, "-out", cert], check=True, capture_output=True)
        shutil.copy(key if path.endswith(".key") else cert, path)
    else:
        write(path, "rendered-manifest-check-" + os.path.basename(path) + "\n")


class Postgres:
    """A throwaway cluster in a temp dir, owned by the postgres OS user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="outpost-hub-check-pg-")
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self._as_postgres([PG_BIN + "initdb", "-D", self.dir + "/data", "-U", "postgres",
                           "--auth-local=trust", "--auth-host=scram-sha-256"])
        with open(self.dir + "/data/postgresql.auto.conf", "a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.dir}'\nfsync = off\n")
        self._as_postgres([PG_BIN + "pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/server.log",
                           "-w", "-t", "60", "start"])

    def _as_postgres(self, cmd):
        run = subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, capture_output=True, text=True,
                             env=dict(os.environ, LC_ALL="C"), cwd="/")
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {run.stdout}{run.stderr}")
        return run.stdout

    def sql(self, statement, db="postgres"):
        return self._as_postgres([PG_BIN + "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h",
                                  self.dir, "-p", str(self.port), "-d", db, "-c", statement]).strip()

    def create_store(self, user, db, password):
        quoted = password.replace("'", "''")
        self.sql(f'CREATE ROLE "{user}" LOGIN PASSWORD \'{quoted}\'')
        self.sql(f'CREATE DATABASE "{db}" OWNER "{user}"')

    def close(self):
        subprocess.run(["runuser", "-u", "postgres", "--", PG_BIN + "pg_ctl", "-D", self.dir + "/data",
                        "-m", "immediate", "-w", "stop"], capture_output=True, cwd="/")
        shutil.rmtree(self.dir, ignore_errors=True)


def local_store_url(url, port):
    """The rendered store URL with host:port on the throwaway cluster and sslmode=disable."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("postgres", "postgresql") or not u.username:
        raise ValueError(f"store URL {url!r}: expected postgres://USER@HOST:PORT/DB")
    query = [(k, v) for k, v in urllib.parse.parse_qsl(u.query) if not k.startswith("ssl")]
    query.append(("sslmode", "disable"))
    netloc = f"{u.username}@127.0.0.1:{port}"
    return urllib.parse.urlunsplit((u.scheme, netloc, u.path, urllib.parse.urlencode(query), "")), \
        u.username, u.path.lstrip("/")


def get(port, path):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the stand-in certificate is self-signed
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=ctx, timeout=10) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def run_hubs(hub, where, runs, pg, tmp):
    """runs: [(args, env, database)] started at once. True when every hub is ready and stops cleanly."""
    procs = []
    for i, (args, env, _db) in enumerate(runs):
        log = open(os.path.join(tmp, f"hub-{i}.log"), "w+")
        procs.append((subprocess.Popen([hub] + args, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    ok = True
    ports = []
    for (proc, log), (args, _env, _db) in zip(procs, runs):
        # The port chosen in store_setup (the last --listen); the log may be at
        # warn level, so readiness is asked, not read from "hub started".
        port = int([a for a in args if a.startswith("--listen=")][-1].rsplit(":", 1)[1])
        deadline, up = time.monotonic() + 60, False
        while time.monotonic() < deadline and proc.poll() is None and not up:
            try:
                up = get(port, "/healthz")[0] == 200
            except OSError:
                time.sleep(0.05)  # not listening yet; bounded by the deadline
        ports.append(port if up else None)
    for (proc, log), port in zip(procs, ports):
        log.seek(0)
        text = log.read()
        if port is None:
            print(f"{where}: hub did not start (exit {proc.poll()}):\n{text[-800:]}", file=sys.stderr)
            ok = False
            continue
        ready, health, metrics = get(port, "/readyz"), get(port, "/healthz"), get(port, "/metrics")
        if ready[0] != 200 or health[0] != 200 or "outpost_hub_queue_depth" not in metrics[1]:
            print(f"{where}: /readyz {ready[0]} {ready[1][:200]}, /healthz {health[0]}, /metrics {metrics[0]}",
                  file=sys.stderr)
            ok = False
    migrated = 0
    for proc, log in procs:
        log.seek(0)
        migrated += log.read().count("store schema migrated")
    logged = 0
    for proc, log in procs:
        log.seek(0)
        logged += log.read().count("store schema ")
    if ok and logged and migrated != 1:  # info level: exactly one hub applied the migrations
        print(f"{where}: {migrated} hubs logged 'store schema migrated', expected exactly 1", file=sys.stderr)
        ok = False
    if ok:  # every level: each version recorded once
        rows = pg.sql("SELECT count(*) || ' ' || count(DISTINCT version) FROM schema_migrations", db=runs[0][2])
        total, distinct = rows.split()
        if total != distinct or total == "0":
            print(f"{where}: schema_migrations has {total} rows for {distinct} versions", file=sys.stderr)
            ok = False
    for proc, log in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "killed after 20 s"
        else:
            code = proc.returncode
        if code != 0:
            log.seek(0)
            print(f"{where}: hub exited {code} on SIGTERM:\n{log.read()[-600:]}", file=sys.stderr)
            ok = False
    if ok:
        print(f"{where}: {len(runs)} hub(s) started at once on one PostgreSQL store, /readyz 200, "
              f"/healthz 200, /metrics served, schema migrated once, clean exit")
    return ok


def materialise(c, pod, objects, root, tmp):
    """Writes the container's mounted Secrets under root; returns the mapped args."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = sorted(c.get("volumeMounts", []), key=lambda m: -len(m["mountPath"]))
    for m in mounts:
        target = root + m["mountPath"]
        os.makedirs(target, exist_ok=True)
        volume = volumes[m["name"]]
        if "secret" in volume:
            obj = objects.get(("Secret", volume["secret"]["secretName"]), {})
            files = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
            files.update({k: v for k, v in (obj.get("stringData") or {}).items()})
            for name, content in files.items():
                text = content if isinstance(content, str) else content.decode(errors="replace")
                if text.startswith("REPLACE-") and name.endswith((".crt", ".key")):
                    stand_in(os.path.join(target, name), tmp)  # a placeholder for a real certificate
                else:
                    write(os.path.join(target, name), content)
    mapped = []
    for a in c.get("args", []):
        for m in mounts:  # longest mount path first; map each argument once
            if "=" + m["mountPath"] + "/" in a:
                a = a.replace("=" + m["mountPath"] + "/", "=" + root + m["mountPath"] + "/", 1)
                break
        mapped.append(a)
        value = a.split("=", 1)[1] if "=" in a else ""
        if value.startswith(root) and not os.path.exists(value):
            stand_in(value, tmp)  # a file an existing Secret would hold
    return mapped


def container_env(c, objects):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTPOST_HUB_", "AGENT_"))}
    for ref in c.get("envFrom", []):
        if "configMapRef" in ref:
            env.update(objects.get(("ConfigMap", ref["configMapRef"]["name"]), {}).get("data", {}))
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        elif "configMapKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = objects[("ConfigMap", ref["name"])]["data"][ref["key"]]
    return env


def store_setup(args, env, pg, where):
    """Points the store at the throwaway cluster; creates the rendered role and database."""
    store = env.get("OUTPOST_HUB_STORE")
    for a in args:
        if a.startswith("--store="):
            store = a.split("=", 1)[1]
    pw_file = next((a.split("=", 1)[1] for a in args if a.startswith("--store-password-file=")), None)
    if not store or not pw_file:
        raise ValueError(f"{where}: no store URL or --store-password-file: a hub replica needs the shared store")
    url, user, db = local_store_url(store, pg.port)
    with open(pw_file) as f:
        password = f.readline().rstrip("\n")
    if pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{user}'") == "0":
        pg.create_store(user, db, password)
    env["OUTPOST_HUB_STORE"] = url
    return args + [f"--store={url}", f"--listen=127.0.0.1:{free_port()}"], env, db


def manifest_mode(hub, rendered):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    ok, found = True, 0
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        for c in pod["containers"]:
            if "outpost-hub" not in c.get("image", ""):
                continue
            found += 1
            where = f"{rendered}: Deployment/{d['metadata']['name']} container {c['name']}"
            replicas = max(1, min(int(d["spec"].get("replicas", 1)), 3))
            pg = Postgres()
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    runs = []
                    for i in range(replicas):
                        root = os.path.join(tmp, f"pod{i}")
                        runs.append(store_setup(materialise(c, pod, objects, root, tmp),
                                                container_env(c, objects), pg, where))
                    ok = run_hubs(hub, where, runs, pg, tmp) and ok
            finally:
                pg.close()
    if found == 0:
        print(f"{rendered}: no outpost-hub Deployment container found", file=sys.stderr)
        ok = False
    return ok


def compose_mode(hub, compose_file, names):
    services = yaml.safe_load(open(compose_file))["services"]
    pg = Postgres()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "root")
            stand_in(root + "/tls/tls.crt", tmp)
            stand_in(root + "/tls/tls.key", tmp)
            write(root + "/secret/store-password", "compose-check-store-password\n")
            runs = []
            for name in names:
                words = [root + w if w.startswith(("/tls/", "/secret/")) else w
                         for w in services[name]["command"]]
                # "--flag value" pairs as --flag=value, so later overrides win the same way.
                args, i = [], 0
                while i < len(words):
                    if words[i].startswith("--") and "=" not in words[i] and i + 1 < len(words) \
                            and not words[i + 1].startswith("--"):
                        args.append(words[i] + "=" + words[i + 1])
                        i += 2
                    else:
                        args.append(words[i])
                        i += 1
                env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTPOST_HUB_", "AGENT_"))}
                env["OUTPOST_HUB_ADMIN_TOKEN"] = "compose-check-admin"
                runs.append(store_setup(args, env, pg, f"{compose_file}: {name}"))
            return run_hubs(hub, f"{compose_file}: services {', '.join(names)}", runs, pg, tmp)
    finally:
        pg.close()


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "--compose":
        ok = compose_mode(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 3:
        ok = manifest_mode(sys.argv[1], sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
