#!/usr/bin/env python3
"""check_deploy.py — static checks of docker/: the Dockerfile, compose.yaml, nginx.conf, k8s/.

There is no Docker engine or Kubernetes cluster on the development machines, so this checks what
can be checked without one: that the files are consistent with each other and with the daemon
(ports, body limit, variable names, user id, health path, label selectors, linked libraries),
and that they follow the deployment rules of the README. It also renders the compose file
(variable interpolation, as `docker compose config` does) and the kustomization (as
`kubectl kustomize` does) into --out for inspection.

  check_deploy.py [--root DIR] [--nnlabd build/nnlabd] [--out build/deploy]
  check_deploy.py --entrypoint-json      # what the image runs (used by entrypoint_test.sh)

Prints one line per check and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

RESULTS = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    if cond:
        RESULTS["passed"] += 1
        print(f"ok   - {what}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
    return bool(cond)


# ---------------------------------------------------------------- Dockerfile

def parse_dockerfile(path):
    """Instructions as (KEYWORD, args-text, line-number), line continuations joined, grouped by
    stage: [{"from": str, "name": str|None, "ins": [...]}]."""
    stages, cur, buf, start = [], None, "", 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        kw, _, rest = buf.strip().partition(" ")
        kw, rest = kw.upper(), rest.strip()
        buf = ""
        if kw == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            cur = {"from": m.group(1) if m else rest, "name": m.group(2) if m else None, "ins": []}
            stages.append(cur)
        elif cur is not None:
            cur["ins"].append((kw, rest, start))
    return stages


def exec_form(text):
    try:
        v = json.loads(text)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def instr(stage, kw):
    return [(a, n) for k, a, n in stage["ins"] if k == kw]


def parse_env(args):
    """ENV KEY=VALUE [KEY=VALUE...] (or the legacy ENV KEY VALUE)."""
    parts = shlex.split(args)
    if parts and "=" not in parts[0]:
        return {parts[0]: " ".join(parts[1:])}
    return dict(p.split("=", 1) for p in parts)


def apt_installs(run_text):
    """Packages named by `apt-get install` commands in a RUN line."""
    pkgs = []
    for cmd in re.split(r"&&|;|\|\|", run_text):
        words = shlex.split(cmd)
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def image_spec(root):
    """What the runtime image runs, from the Dockerfile: entrypoint, cmd, env, user,
    healthcheck, and for each file copied into the image, its source in the tree."""
    stages = parse_dockerfile(os.path.join(root, "docker/Dockerfile"))
    rt = stages[-1]
    spec = {"env": {}, "entrypoint": None, "cmd": [], "user": None, "healthcheck": None,
            "copies": {}, "expose": [], "stopsignal": None}
    build_workdir = {}
    for st in stages[:-1]:
        wd = instr(st, "WORKDIR")
        build_workdir[st["name"]] = wd[-1][0] if wd else "/"
    for kw, args, _ in rt["ins"]:
        if kw == "ENV":
            spec["env"].update(parse_env(args))
        elif kw == "ENTRYPOINT":
            spec["entrypoint"] = exec_form(args)
        elif kw == "CMD":
            spec["cmd"] = exec_form(args)
        elif kw == "USER":
            spec["user"] = args
        elif kw == "EXPOSE":
            spec["expose"] += args.split()
        elif kw == "STOPSIGNAL":
            spec["stopsignal"] = args
        elif kw == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(.*)$", args)
            spec["healthcheck"] = exec_form(m.group(1)) if m else None
            spec["healthcheck_options"] = args[:m.start()].split() if m else []
        elif kw == "COPY":
            words = args.split()
            frm = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
            files = [w for w in words if not w.startswith("--")]
            src, dst = files[0], files[-1]
            if frm is not None:
                wd = build_workdir.get(frm, "/")
                if src.startswith(wd.rstrip("/") + "/"):
                    src = src[len(wd.rstrip("/")) + 1:]
            spec["copies"][dst] = src
    return spec


def check_dockerfile(root, nnlabd):
    path = os.path.join(root, "docker/Dockerfile")
    stages = parse_dockerfile(path)
    check(len(stages) >= 2, "Dockerfile is multi-stage", f"{len(stages)} stage(s)")
    if len(stages) < 2:
        return
    build, rt = stages[0], stages[-1]
    check(build["from"] == "debian:12", "build stage is FROM debian:12", build["from"])
    check(rt["from"] == "debian:12-slim", "runtime stage is FROM debian:12-slim", rt["from"])
    for st in stages:
        check(":" in st["from"] and not st["from"].endswith(":latest"),
              f"base image {st['from']} has a pinned tag")
    build_runs = " && ".join(a for a, _ in instr(build, "RUN"))
    check(re.search(r"\bmake deps-run\b", build_runs),
          "build stage installs with `make deps-run` (the README's recipe)")
    check(re.search(r"\bmake daemon\b", build_runs),
          "build stage builds with `make daemon` (the README's recipe)")
    # The README and CI run the same targets.
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    check("make deps-run" in readme or "make run" in readme,
          "README documents the same make recipe")

    rt_runs = [a for a, _ in instr(rt, "RUN")]
    pkgs = [p for r in rt_runs for p in apt_installs(r)]
    check(pkgs, "runtime stage installs its libraries with apt-get", str(pkgs))
    dev = [p for p in pkgs if p.endswith("-dev") or p in
           ("gcc", "clang", "make", "build-essential", "cpp", "binutils", "pkg-config")]
    check(not dev, "runtime stage installs no -dev package and no compiler", str(dev))
    for r in rt_runs:
        if "apt-get install" in r:
            check("--no-install-recommends" in r, "runtime apt-get uses --no-install-recommends")
            check("rm -rf /var/lib/apt/lists" in r, "runtime apt-get removes its package lists")

    spec = image_spec(root)
    user = spec["user"] or ""
    uid = user.split(":")[0]
    check(user and uid not in ("0", "root"), "runtime stage runs as a non-root USER", user)
    check(uid.isdigit(), "USER is numeric (Kubernetes runAsNonRoot can verify it)", user)
    adds = " ".join(rt_runs)
    gid = user.split(":")[1] if ":" in user else uid
    check(re.search(rf"useradd\b.*--uid {uid}\b", adds) and
          re.search(rf"groupadd\b.*--gid {gid}\b", adds),
          "the USER's uid and gid are created in the image", user)
    port = spec["env"].get("NNLAB_PORT", "8080")
    check(port in [e.split("/")[0] for e in spec["expose"]], f"EXPOSE {port} (NNLAB_PORT)",
          str(spec["expose"]))
    check(spec["env"].get("NNLAB_HOST") == "0.0.0.0",
          "NNLAB_HOST=0.0.0.0: reachable from outside the container")
    check(all(k.startswith("NNLAB_") for k in spec["env"]), "configuration is NNLAB_* variables")
    check(spec["stopsignal"] == "SIGTERM", "STOPSIGNAL SIGTERM")
    ep = spec["entrypoint"]
    check(ep is not None, "ENTRYPOINT is in exec form (signals reach the process)")
    if ep:
        check(ep[0] == "/usr/bin/tini" and "tini" in pkgs and ep[1] == "--",
              "ENTRYPOINT starts tini (installed) as PID 1, which forwards SIGTERM and reaps")
        check(ep[-1] in spec["copies"] and spec["copies"][ep[-1]].endswith("build/nnlabd"),
              "ENTRYPOINT runs the daemon copied from the build stage", ep[-1])
    check(spec["cmd"] is not None, "CMD is in exec form")
    hc = spec["healthcheck"]
    check(hc is not None, "HEALTHCHECK CMD is in exec form")
    if hc:
        src = spec["copies"].get(hc[0])
        check(src and os.access(os.path.join(root, src), os.X_OK),
              "HEALTHCHECK runs an executable script shipped from the tree", f"{hc[0]} <- {src}")
        script = open(os.path.join(root, src), encoding="utf-8").read() if src else ""
        check("/healthz" in script, "the healthcheck asks /healthz")
        opts = dict(o.lstrip("-").split("=", 1) for o in spec.get("healthcheck_options", []))
        check({"interval", "timeout", "retries"} <= set(opts),
              "HEALTHCHECK sets interval, timeout and retries", str(opts))

    if nnlabd:
        # Every shared library the daemon links must come from a package the runtime installs
        # (or from libc6, which debian:12-slim has).
        out = subprocess.run(["readelf", "-d", nnlabd], capture_output=True, text=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)
        check(needed, "readelf lists the daemon's shared libraries", nnlabd)
        base = {"libc6", "libgcc-s1"}
        ldd = subprocess.run(["ldd", nnlabd], capture_output=True, text=True).stdout
        resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
        owners = packages_of([resolved[lib] for lib in needed if lib in resolved])
        for lib in needed:
            owner = owners.get(resolved.get(lib), "")
            check(owner and (owner in pkgs or owner in base),
                  f"{lib} comes from {owner or '?'}, which the runtime image has", str(pkgs))
        help_env = daemon_variables(nnlabd)
        for k in spec["env"]:
            check(k in help_env, f"Dockerfile ENV {k} is a variable nnlabd knows")


def packages_of(paths):
    """{path: Debian package owning it ('' if none)}, whichever of the merged-/usr spellings dpkg
    registered it under. One dpkg call for all paths (each call reads the whole database)."""
    cands = {}
    for p in paths:
        forms = {p, os.path.realpath(p)}
        forms |= {f[4:] if f.startswith("/usr/") else "/usr" + f for f in list(forms)}
        cands[p] = forms
    allforms = sorted(set().union(*cands.values())) if cands else []
    out = subprocess.run(["dpkg", "-S"] + allforms, capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkg, _, f = line.partition(": ")
        owner[f.strip()] = pkg.split(":")[0].split(",")[0].strip()
    return {p: next((owner[f] for f in sorted(forms) if f in owner), "") for p, forms in cands.items()}


def daemon_variables(nnlabd):
    out = subprocess.run([nnlabd, "--help"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    return dict(re.findall(r"^\s*--\S+\s+(NNLAB_\w+)\s+(\S+)", text, re.M))


# ---------------------------------------------------------------- nginx.conf

def parse_nginx(text):
    """Nested directives: [(name, [args], children|None)]."""
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|#[^\n]*|[{};]|[^\s{};]+', text)
    toks = [t for t in toks if not t.startswith("#")]
    pos = 0

    def block():
        nonlocal pos
        out, words = [], []
        while pos < len(toks):
            t = toks[pos]
            pos += 1
            if t == ";":
                out.append((words[0], words[1:], None))
                words = []
            elif t == "{":
                children = block()
                out.append((words[0], words[1:], children))
                words = []
            elif t == "}":
                return out
            else:
                words.append(t[1:-1] if t[:1] in "\"'" else t)
        return out
    return block()


def find(block, name, *args):
    return [d for d in block if d[0] == name and (not args or list(d[1][:len(args)]) == list(args))]


def directive(blocks, name):
    """Value of `name` in the innermost of the given nested blocks (nginx inheritance)."""
    for b in blocks:
        d = find(b, name)
        if d:
            return d[-1][1]
    return None


def nginx_size(v):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", v)
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


def nginx_seconds(v):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", v)
    return int(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def check_nginx(root, body_limit, upstream_service, daemon_port, proxy_port, max_connections):
    text = open(os.path.join(root, "docker/nginx.conf"), encoding="utf-8").read()
    conf = parse_nginx(text)
    http = find(conf, "http")
    check(http, "nginx.conf has an http block")
    if not http:
        return
    http = http[0][2]
    ups = find(http, "upstream")
    check(len(ups) == 1, "nginx.conf has one upstream")
    if not ups:
        return
    up_name, up = ups[0][1][0], ups[0][2]
    servers = [d[1][0] for d in find(up, "server")]
    check(servers == [f"{upstream_service}:{daemon_port}"],
          f"upstream is the compose service by name ({upstream_service}:{daemon_port})",
          str(servers))
    ka = find(up, "keepalive")
    check(ka, "upstream keeps connections alive")
    wp = find(conf, "worker_processes")
    workers = wp[0][1][0] if wp else "1"
    check(workers.isdigit() and ka and int(workers) * int(ka[0][1][0]) <= max_connections // 4,
          "idle upstream connections (workers x keepalive) leave the daemon's connection "
          f"threads ({max_connections}) free", f"{workers} x {ka[0][1][0] if ka else '?'}")
    kt = find(up, "keepalive_timeout")
    check(kt and nginx_seconds(kt[0][1][0]) < 60,
          "upstream keepalive_timeout is below the daemon's 60 s idle timeout")
    srv = find(http, "server")
    check(len(srv) == 1, "nginx.conf has one server")
    srv = srv[0][2]
    listen = [d[1][0] for d in find(srv, "listen")]
    check(listen == [str(proxy_port)], f"nginx listens on the published port {proxy_port}",
          str(listen))
    cmbs = directive([srv, http], "client_max_body_size")
    check(cmbs and nginx_size(cmbs[0]) == body_limit,
          f"client_max_body_size equals the daemon's body limit ({body_limit} bytes)", str(cmbs))
    train = find(srv, "location", "/train/")
    check(train, "nginx.conf has a location /train/")
    root_loc = find(srv, "location", "/")
    check(root_loc, "nginx.conf has a location /")
    for loc, name in ((train, "/train/"), (root_loc, "/")):
        if not loc:
            continue
        chain = [loc[0][2], srv, http]
        pp = directive(chain, "proxy_pass")
        check(pp == [f"http://{up_name}"], f"{name} is proxied to the upstream", str(pp))
        check(directive(chain, "proxy_http_version") == ["1.1"], f"{name} uses HTTP/1.1 upstream")
        hdrs = [d[1] for b in chain for d in find(b, "proxy_set_header", "Connection")]
        check(hdrs and hdrs[0] == ["Connection", ""],
              f"{name} clears Connection (keepalive to the upstream)")
    if train:
        chain = [train[0][2], srv, http]
        check(directive(chain, "proxy_buffering") == ["off"], "/train/: proxy_buffering off")
        # Request buffering stays on: it lets nginx replay a small body on another replica.
        check(directive(chain, "proxy_request_buffering") in (None, ["on"]),
              "/train/: request body buffered, so a 503 busy can be retried elsewhere")
        nu = directive([srv, http], "proxy_next_upstream") or []
        check({"http_503", "non_idempotent"} <= set(nu),
              "a POST refused with 503 busy is passed to another replica", str(nu))
        check(directive(chain, "gzip") != ["on"], "/train/: not gzipped (gzip buffers)")
        rt = directive(chain, "proxy_read_timeout")
        check(rt and nginx_seconds(rt[0]) >= 60,
              "/train/: proxy_read_timeout well above the daemon's 5 s between lines", str(rt))
        xab = [d[1] for d in find(train[0][2], "add_header", "X-Accel-Buffering")]
        check(xab and xab[0][1] == "no", "/train/: X-Accel-Buffering: no for outer proxies")
    return text


def render_nginx_for_test(text, upstreams, listen_port, tmpdir, ignore_accel=False):
    """A copy of nginx.conf for `nginx -t` / a local run: the service name replaced by local
    daemons, the port and the writable paths moved under tmpdir. With ignore_accel, /train/
    also ignores the daemon's own `X-Accel-Buffering: no` header, so that a test measures what
    the configuration alone does (behind a proxy that does not know that header)."""
    def servers(m):
        return "\n        ".join(f"server {u}{m.group(1)};" for u in upstreams)
    out, n_up = re.subn(r"server nnlabd:\d+([^;]*);", servers, text)
    out, n_listen = re.subn(r"listen \d+;", f"listen 127.0.0.1:{listen_port};", out)
    if n_up != 1 or n_listen != 1:
        raise SystemExit(f"render: expected one upstream server and one listen, found "
                         f"{n_up} and {n_listen}")
    if ignore_accel:
        out, n = re.subn(r"(location /train/ \{\n)", r"\1            proxy_ignore_headers X-Accel-Buffering;\n", out)
        if n != 1:
            raise SystemExit("render: expected one location /train/")
    out = out.replace("/tmp/", tmpdir.rstrip("/") + "/")
    out = out.replace("access_log /dev/stdout;", f"access_log {tmpdir}/access.log;")
    return out


# ---------------------------------------------------------------- compose

def interpolate(value, env):
    """Compose's variable syntax: ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR, $$."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, default = m.group(2), m.group(3) or ""
        v = env.get(name)
        if op == ":-" and not v:
            return default
        if op == "-" and v is None:
            return default
        return v or ""
    return re.sub(r"\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}|\$(\w+)", sub, value)


def check_compose(root, out_dir, nnlabd_env, image):
    raw = yaml.safe_load(open(os.path.join(root, "docker/compose.yaml"), encoding="utf-8"))
    c = interpolate(raw, {})
    if out_dir:
        with open(os.path.join(out_dir, "compose.rendered.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(c, f, sort_keys=False)
    svcs = c.get("services", {})
    check({"nnlabd", "proxy"} <= set(svcs), "compose has services nnlabd and proxy", str(list(svcs)))
    d, p = svcs.get("nnlabd", {}), svcs.get("proxy", {})
    b = d.get("build", {})
    ctx = os.path.normpath(os.path.join(root, "docker", b.get("context", ".")))
    check(ctx == os.path.normpath(root) and os.path.isfile(os.path.join(ctx, b.get("dockerfile", ""))),
          "nnlabd builds docker/Dockerfile with the repository root as context", str(b))
    reps = d.get("deploy", {}).get("replicas")
    check(str(reps).isdigit() and int(reps) >= 2, "nnlabd runs N replicas (deploy.replicas)",
          str(reps))
    check("ports" not in d, "replicas publish no host port (only the proxy does)")
    env = {k: str(v) for k, v in (d.get("environment") or {}).items()}
    check(env.get("NNLAB_HOST") == "0.0.0.0", "nnlabd listens on 0.0.0.0 in its container")
    for k in env:
        check(k in nnlabd_env if nnlabd_env else k.startswith("NNLAB_"),
              f"compose variable {k} is one nnlabd knows")
    threads = env.get("NNLAB_THREADS")
    cpus = d.get("deploy", {}).get("resources", {}).get("limits", {}).get("cpus")
    check(threads and cpus and float(threads) == float(cpus),
          "NNLAB_THREADS matches the replica's CPU limit", f"{threads} vs {cpus}")
    hc = d.get("healthcheck", {}).get("test", [])
    check(hc[:1] == ["CMD"] and hc[1:] == image["healthcheck"],
          "compose healthcheck runs the image's HEALTHCHECK command", str(hc))
    check(d.get("stop_signal", "SIGTERM") == "SIGTERM", "nnlabd is stopped with SIGTERM")
    check(d.get("read_only") is True, "nnlabd has a read-only root file system")
    dep = p.get("depends_on", {})
    check(isinstance(dep, dict) and dep.get("nnlabd", {}).get("condition") == "service_healthy",
          "proxy starts once the replicas are healthy")
    vols = p.get("volumes", [])
    mount = next((v for v in vols if ":/etc/nginx/nginx.conf" in v), None)
    check(mount and os.path.isfile(os.path.join(root, "docker", mount.split(":")[0])),
          "proxy mounts docker/nginx.conf as its configuration", str(vols))
    ports = p.get("ports", [])
    check(len(ports) == 1, "proxy publishes one port", str(ports))
    proxy_port = int(str(ports[0]).split(":")[-1]) if ports else 0
    daemon_port = int(env.get("NNLAB_PORT", image["env"].get("NNLAB_PORT", "8080")))
    body = int(env.get("NNLAB_MAX_BODY", 16 << 20))
    return {"proxy_port": proxy_port, "daemon_port": daemon_port, "body": body,
            "service": "nnlabd"}


# ---------------------------------------------------------------- Kubernetes

REQUIRED = {
    "Deployment": ("apps/v1", ["spec.selector.matchLabels", "spec.template.metadata.labels",
                               "spec.template.spec.containers"]),
    "Service": ("v1", ["spec.selector", "spec.ports"]),
    "HorizontalPodAutoscaler": ("autoscaling/v2", ["spec.scaleTargetRef", "spec.maxReplicas",
                                                   "spec.metrics"]),
    "PodDisruptionBudget": ("policy/v1", ["spec.selector.matchLabels"]),
    "Ingress": ("networking.k8s.io/v1", ["spec.rules"]),
}


def get(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def quantity(v):
    """CPU or memory quantity -> float (cores or bytes)."""
    v = str(v)
    units = {"m": 1e-3, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 1e3, "M": 1e6, "G": 1e9}
    for u, f in sorted(units.items(), key=lambda x: -len(x[0])):
        if v.endswith(u):
            return float(v[:-len(u)]) * f
    return float(v)


def all_strings(d):
    return isinstance(d, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in d.items())


def check_k8s(root, out_dir, nnlabd_env, image, body_limit):
    kdir = os.path.join(root, "docker/k8s")
    kust = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml"), encoding="utf-8"))
    listed = kust.get("resources", [])
    present = sorted(f for f in os.listdir(kdir) if f.endswith(".yaml") and f != "kustomization.yaml")
    check(sorted(listed) == present, "kustomization lists every manifest", f"{listed} vs {present}")
    docs = []
    for f in listed:
        for doc in yaml.safe_load_all(open(os.path.join(kdir, f), encoding="utf-8")):
            if doc:
                docs.append((f, doc))
    # Render as kustomize would: common labels on metadata, the image name/tag substituted.
    extra = {}
    for group in kust.get("labels", []):
        extra.update(group.get("pairs", {}))
    subst = {i["name"]: i for i in kust.get("images", [])}
    by_kind = {}
    for f, doc in docs:
        kind, name = doc.get("kind"), get(doc, "metadata.name")
        check(kind in REQUIRED, f"{f}: kind {kind} is one of the expected kinds")
        if kind not in REQUIRED:
            continue
        api, fields = REQUIRED[kind]
        check(doc.get("apiVersion") == api, f"{f}: {kind} apiVersion is {api}", doc.get("apiVersion"))
        check(isinstance(name, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name),
              f"{f}: {kind} has a DNS-1123 metadata.name", str(name))
        for fld in fields:
            check(get(doc, fld) is not None, f"{f}: {kind} has {fld}")
        for fld in ("metadata.labels", "metadata.annotations", "spec.template.metadata.labels",
                    "spec.template.metadata.annotations"):
            if get(doc, fld) is not None:
                check(all_strings(get(doc, fld)), f"{f}: {fld} are all strings")
        doc.setdefault("metadata", {}).setdefault("labels", {}).update(extra)
        by_kind.setdefault(kind, []).append(doc)
        for c in get(doc, "spec.template.spec.containers", []) or []:
            if c.get("image") in subst:
                s = subst[c["image"]]
                c["image"] = s.get("newName", s["name"]) + ":" + str(s.get("newTag", "latest"))
    if out_dir:
        with open(os.path.join(out_dir, "k8s.rendered.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump_all([d for _, d in docs], f, sort_keys=False)

    dep = (by_kind.get("Deployment") or [None])[0]
    if not check(dep, "a Deployment exists"):
        return
    tpl = get(dep, "spec.template")
    tlabels = get(tpl, "metadata.labels", {})
    sel = get(dep, "spec.selector.matchLabels", {})
    check(sel and sel.items() <= tlabels.items(), "Deployment selector matches its pod labels")
    pod = tpl["spec"]
    psc = pod.get("securityContext", {})
    uid = image["user"].split(":")[0] if image["user"] else None
    check(psc.get("runAsNonRoot") is True, "pods run as non-root (runAsNonRoot)")
    check(str(psc.get("runAsUser")) == uid, f"runAsUser is the image's USER ({uid})",
          str(psc.get("runAsUser")))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    cs = pod.get("containers", [])
    check(len(cs) == 1, "one container per pod")
    c = cs[0]
    check(c.get("image"), "the container has an image")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    daemon_port = int(image["env"].get("NNLAB_PORT", 8080))
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    check(all(isinstance(v, str) for v in env.values()), "env values are strings", str(env))
    for k in env:
        check(k in nnlabd_env if nnlabd_env else k.startswith("NNLAB_"),
              f"k8s variable {k} is one nnlabd knows")
    port = int(env.get("NNLAB_PORT", daemon_port))
    check(port in ports.values(), f"containerPort is NNLAB_PORT ({port})", str(ports))
    check(env.get("NNLAB_HOST") in ("0.0.0.0", None) and image["env"].get("NNLAB_HOST") == "0.0.0.0"
          or env.get("NNLAB_HOST") == "0.0.0.0", "the pod listens on 0.0.0.0")
    check(int(env.get("NNLAB_MAX_BODY", body_limit)) == body_limit,
          "NNLAB_MAX_BODY is the body limit the proxies use")
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            check(get(res, f"{kind}.{r}") is not None, f"resources.{kind}.{r} is set")
    try:
        for r in ("cpu", "memory"):
            check(quantity(res["limits"][r]) >= quantity(res["requests"][r]),
                  f"{r} limit >= request")
        th = env.get("NNLAB_THREADS")
        check(th is not None and 0 < int(th) <= quantity(res["limits"]["cpu"]),
              "NNLAB_THREADS is set and within the CPU limit (not every core of the node)")
    except (KeyError, ValueError) as e:
        check(False, "resources are parseable quantities", str(e))
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, "read-only root file system")
    check(sc.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    check("ALL" in get(sc, "capabilities.drop", []), "all capabilities dropped")
    for probe in ("livenessProbe", "readinessProbe"):
        pr = c.get(probe, {})
        hg = pr.get("httpGet", {})
        check(hg.get("path") == "/healthz", f"{probe} is httpGet /healthz")
        pp = hg.get("port")
        check(pp in ports or pp == port, f"{probe} port names the container port", str(pp))
    pre = get(c, "lifecycle.preStop.exec.command")
    if pre:
        check(pre[0] in ("sleep", "/bin/sleep", "/usr/bin/sleep"),
              "preStop sleeps (coreutils is in debian:12-slim)")
        check(int(pre[1]) < grace, "preStop delay is within terminationGracePeriodSeconds")
    mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
    check("/tmp" in mounts, "a writable /tmp is mounted (read-only root)")
    ann = get(tpl, "metadata.annotations", {})
    check(ann.get("prometheus.io/scrape") == "true", "pods carry prometheus.io/scrape")
    check(ann.get("prometheus.io/path") == "/metrics", "prometheus.io/path is /metrics")
    check(ann.get("prometheus.io/port") == str(port), "prometheus.io/port is the daemon's port")

    svc = (by_kind.get("Service") or [None])[0]
    if check(svc, "a Service exists"):
        ssel = get(svc, "spec.selector", {})
        check(ssel and ssel.items() <= tlabels.items(), "Service selects the Deployment's pods")
        check("sessionAffinity" not in svc["spec"] or svc["spec"]["sessionAffinity"] == "None",
              "Service has no session affinity (the daemon is stateless)")
        for sp in svc["spec"]["ports"]:
            tp = sp.get("targetPort")
            check(tp in ports or tp in ports.values(), f"Service targetPort {tp} is a container port")
    hpa = (by_kind.get("HorizontalPodAutoscaler") or [None])[0]
    if check(hpa, "a HorizontalPodAutoscaler exists"):
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref.get("kind") == "Deployment" and ref.get("name") == get(dep, "metadata.name")
              and ref.get("apiVersion") == "apps/v1", "HPA scales the Deployment")
        check(1 <= hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"],
              "HPA minReplicas <= maxReplicas")
        m = hpa["spec"]["metrics"]
        check(any(get(x, "resource.name") == "cpu" and get(x, "resource.target.type") == "Utilization"
                  for x in m if x.get("type") == "Resource"), "HPA targets CPU utilisation")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        s = get(pdb, "spec.selector.matchLabels", {})
        check(s.items() <= tlabels.items(), "PodDisruptionBudget selects the Deployment's pods")
    for ing in by_kind.get("Ingress", []):
        a = get(ing, "metadata.annotations", {})
        pre = "nginx.ingress.kubernetes.io/"
        check(a.get(pre + "proxy-buffering") == "off", "Ingress: proxy-buffering off")
        check(a.get(pre + "proxy-request-buffering", "on") == "on",
              "Ingress: request bodies buffered (retryable)")
        nu = a.get(pre + "proxy-next-upstream", "").split()
        check({"http_503", "non_idempotent"} <= set(nu), "Ingress: 503 busy retried on another pod")
        check(int(a.get(pre + "proxy-read-timeout", "60")) >= 60, "Ingress: long proxy-read-timeout")
        bs = a.get(pre + "proxy-body-size")
        check(bs and nginx_size(bs) == body_limit, "Ingress: proxy-body-size is the body limit",
              str(bs))
        snames = {get(s, "metadata.name"): s for s in by_kind.get("Service", [])}
        for rule in ing["spec"]["rules"]:
            for path in get(rule, "http.paths", []):
                be = get(path, "backend.service", {})
                s = snames.get(be.get("name"))
                check(s, f"Ingress backend {be.get('name')} is a Service here")
                if s:
                    names = [p.get("name") for p in s["spec"]["ports"]] + \
                            [p.get("port") for p in s["spec"]["ports"]]
                    bp = be.get("port", {})
                    check(bp.get("name", bp.get("number")) in names,
                          "Ingress backend port is a Service port")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "../..")))
    ap.add_argument("--nnlabd", help="the built daemon: check variable names and linked libraries")
    ap.add_argument("--out", help="directory for the rendered compose and k8s files")
    ap.add_argument("--entrypoint-json", action="store_true",
                    help="print what the image runs, as JSON, and exit")
    ap.add_argument("--render-nginx", nargs=3, metavar=("UPSTREAMS", "PORT", "TMPDIR"),
                    help="print nginx.conf rendered for a local run (UPSTREAMS comma-separated)")
    a = ap.parse_args()
    if a.entrypoint_json:
        print(json.dumps(image_spec(a.root)))
        return 0
    if a.render_nginx:
        text = open(os.path.join(a.root, "docker/nginx.conf"), encoding="utf-8").read()
        sys.stdout.write(render_nginx_for_test(text, a.render_nginx[0].split(","),
                                               a.render_nginx[1], a.render_nginx[2]))
        return 0
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    nnlabd_env = daemon_variables(a.nnlabd) if a.nnlabd else {}
    if a.nnlabd:
        check(nnlabd_env, "nnlabd --help lists its NNLAB_* variables")
    check_dockerfile(a.root, a.nnlabd)
    image = image_spec(a.root)
    body_default = int(nnlabd_env.get("NNLAB_MAX_BODY", 16 << 20))
    wiring = check_compose(a.root, a.out, nnlabd_env, image)
    check(wiring["body"] == body_default, "compose body limit is the daemon's default")
    check_nginx(a.root, wiring["body"], wiring["service"], wiring["daemon_port"],
                wiring["proxy_port"], int(nnlabd_env.get("NNLAB_MAX_CONNECTIONS", 256)))
    check_k8s(a.root, a.out, nnlabd_env, image, wiring["body"])
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
