#!/usr/bin/env python3
"""The deploy kit as shipped, checked with the real tools: nginx -t on
deploy/nginx/pstrack.conf (nginx 1.22), systemd-analyze verify and security on
deploy/systemd/pstrack.service, the Kubernetes manifests and the compose file
parsed as YAML with their security settings checked against the Dockerfile's
numeric user, and .dockerignore applied (with Docker's matching rules) to the
tree a first `tools/run.sh` leaves. Each check also runs on a known-bad
variant, so a check that cannot fail shows up as a failure.
Prints 'N passed, N failed'; exits non-zero on any failure."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_kit  # noqa: E402
from e2e_common import check_that as check, summary  # noqa: E402

SRC = None

# systemd-analyze security's overall exposure for the unit must stay at or
# under this (0 = fully locked down, 10 = unprotected; "OK" is below 4.0).
MAX_EXPOSURE = 2.5


def deploy_file(*parts):
    return os.path.join(SRC, "deploy", *parts)


# --- nginx -------------------------------------------------------------------

def nginx_test(site_text, work):
    """Runs `nginx -t` on a main configuration that includes site_text in its
    http block; returns (ok, output)."""
    prefix = tempfile.mkdtemp(dir=work, prefix="nginx-")
    os.makedirs(os.path.join(prefix, "logs"))
    site = os.path.join(prefix, "pstrack.conf")
    with open(site, "w") as f:
        f.write(site_text)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(deploy_kit.nginx_main_conf(prefix, site))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    r = subprocess.run([nginx, "-t", "-p", prefix, "-c", conf], capture_output=True, text=True)
    out = r.stdout + r.stderr
    return r.returncode == 0 and "test is successful" in out, out


def test_nginx(work):
    # nginx resolves upstream host names when it loads the file; the compose
    # file's service names do not resolve here, so they become loopback
    # addresses. Every other line is the shipped one.
    site = deploy_kit.nginx_site(SRC, ["127.0.0.1:50051", "127.0.0.1:50052"])
    ok, out = nginx_test(site, work)
    check("nginx -t accepts deploy/nginx/pstrack.conf", ok, out)
    bad = re.sub(r"grpc_next_upstream .*;", "grpc_next_upstream error timeout unavailable;", site)
    ok, out = nginx_test(bad, work)
    check("nginx -t refuses 'grpc_next_upstream ... unavailable' (the check can fail)",
          not ok and "unavailable" in out, out)


# --- systemd -----------------------------------------------------------------

def systemd_root(work, unit_text):
    """A minimal root for `systemd-analyze verify --root`: the unit, its
    environment file, the binary it starts, the host's system units and
    /bin/kill (ExecReload)."""
    root = tempfile.mkdtemp(dir=work, prefix="systemd-root-")
    for d in ("opt/pstrack/bin", "etc/pstrack", "etc/systemd/system", "usr/bin", "usr/lib/systemd"):
        os.makedirs(os.path.join(root, d))
    os.symlink("usr/bin", os.path.join(root, "bin"))
    shutil.copytree("/usr/lib/systemd/system", os.path.join(root, "usr/lib/systemd/system"), symlinks=True)
    shutil.copy(shutil.which("kill") or "/bin/kill", os.path.join(root, "usr/bin/kill"))
    shutil.copy(ARGS.server_bin, os.path.join(root, "opt/pstrack/bin/pstrack-server"))
    shutil.copy(deploy_file("systemd", "pstrack.env"), os.path.join(root, "etc/pstrack/pstrack.env"))
    with open(os.path.join(root, "etc/systemd/system/pstrack.service"), "w") as f:
        f.write(unit_text)
    return root


def systemd_verify(work, unit_text):
    root = systemd_root(work, unit_text)
    r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "pstrack.service"],
                       capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    # verify exits 0 on settings it ignores with a warning: any output fails.
    return r.returncode == 0 and not out, out


def exposure(unit_path):
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit_path],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
    return (float(m.group(1)) if m else None), r.stdout + r.stderr


def unit_settings(text):
    settings = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            settings.setdefault(k.strip(), []).append(v.strip())
    return settings


def test_systemd(work):
    path = deploy_file("systemd", "pstrack.service")
    text = open(path, encoding="utf-8").read()
    ok, out = systemd_verify(work, text)
    check("systemd-analyze verify: deploy/systemd/pstrack.service has no error or warning", ok, out)
    ok, out = systemd_verify(work, text.replace("UMask=0077", "UMask=077x"))
    check("systemd-analyze verify reports a bad value (the check can fail)", not ok, out)

    level, out = exposure(path)
    check(f"systemd-analyze security: exposure {level} <= {MAX_EXPOSURE}",
          level is not None and level <= MAX_EXPOSURE, out[-3000:])
    bare = os.path.join(work, "bare.service")
    with open(bare, "w") as f:
        f.write("[Service]\nExecStart=/opt/pstrack/bin/pstrack-server\nUser=pstrack\n")
    bare_level, out = exposure(bare)
    check(f"a unit without hardening rates worse ({bare_level}) than the limit",
          bare_level is not None and bare_level > MAX_EXPOSURE, out[-2000:])

    s = unit_settings(text)
    check("the unit creates files 0600 (UMask=0077)", s.get("UMask") == ["0077"], str(s.get("UMask")))
    nofile = s.get("LimitNOFILE", ["0"])[-1]
    check("the unit raises the open-file limit (LimitNOFILE >= 65536)",
          nofile.isdigit() and int(nofile) >= 65536, nofile)
    check("the state directory is private (StateDirectoryMode=0700)", s.get("StateDirectoryMode") == ["0700"],
          str(s.get("StateDirectoryMode")))
    check("the unit runs as the pstrack user, not root", s.get("User") == ["pstrack"], str(s.get("User")))


# --- Kubernetes, compose and the Dockerfile ----------------------------------

def dockerfile_user():
    """The final stage's USER as (uid, gid) when numeric, and the uid/gid the
    final stage's useradd/groupadd give the pstrack user."""
    text = open(deploy_file("Dockerfile"), encoding="utf-8").read()
    final = text[text.rindex("\nFROM "):].replace("\\\n", " ")
    users = re.findall(r"^USER\s+(\S+)", final, re.M)
    user = users[-1] if users else ""
    m = re.fullmatch(r"(\d+):(\d+)", user)
    uid = re.search(r"useradd\b[^&]*--uid\s+(\d+)", final)
    gid = re.search(r"groupadd\b[^&]*--gid\s+(\d+)", final)
    return user, (int(m.group(1)), int(m.group(2))) if m else None, \
        int(uid.group(1)) if uid else None, int(gid.group(1)) if gid else None


def test_kubernetes_and_image():
    user, numeric, useradd_uid, groupadd_gid = dockerfile_user()
    check("the image's USER is numeric uid:gid", numeric is not None, f"USER {user}")
    check("the image's USER is the pstrack user it creates",
          numeric is not None and numeric == (useradd_uid, groupadd_gid),
          f"USER {user}, useradd --uid {useradd_uid}, groupadd --gid {groupadd_gid}")

    docs = [d for d in yaml.safe_load_all(open(deploy_file("k8s", "pstrack.yaml"), encoding="utf-8")) if d]
    kinds = {d["kind"]: d for d in docs}
    check("deploy/k8s/pstrack.yaml parses: Deployment, Service, Secret, ConfigMap, PodDisruptionBudget",
          {"Deployment", "Service", "Secret", "ConfigMap", "PodDisruptionBudget"} <= set(kinds), str(sorted(kinds)))
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    run_as = psc.get("runAsUser")
    check("the pod runs as non-root with a numeric user (the kubelet can check runAsNonRoot)",
          psc.get("runAsNonRoot") is True and isinstance(run_as, int) and run_as > 0, str(psc))
    check("the pod's user and group are the image's",
          numeric is not None and (run_as, psc.get("runAsGroup")) == numeric, f"{psc} vs USER {user}")
    check("the pod uses the runtime's default seccomp profile",
          psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", str(psc))
    (container,) = [c for c in pod["containers"] if c["name"] == "pstrack"]
    csc = container.get("securityContext", {})
    check("the container cannot escalate, has a read-only root and drops every capability",
          csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem") is True
          and csc.get("capabilities", {}).get("drop") == ["ALL"], str(csc))
    port = {p["name"]: p["containerPort"] for p in container["ports"]}.get("grpc")
    probes = [container.get(p, {}).get("grpc", {}).get("port") for p in ("readinessProbe", "livenessProbe")]
    check("the probes ask grpc.health.v1 on the gRPC port", probes == [port, port], f"{probes} vs {port}")
    targets = [p.get("targetPort") for p in kinds["Service"]["spec"]["ports"]]
    check("the Service targets the named gRPC port", targets == ["grpc"], str(targets))
    env = {e["name"] for e in container.get("env", [])}
    check("the database URL comes from the Secret", "PSTRACK_DB" in env, str(env))

    compose = yaml.safe_load(open(deploy_file("compose.yaml"), encoding="utf-8"))
    services = compose.get("services", {})
    mounts = services.get("nginx", {}).get("volumes", [])
    check("compose.yaml parses and mounts the shipped nginx file",
          any(m.split(":")[0] == "./nginx/pstrack.conf" for m in mounts), str(mounts))
    build = services.get("pstrack-1", {}).get("build", {})
    check("compose.yaml builds the Dockerfile from the repository root",
          build.get("context") == ".." and build.get("dockerfile") == "deploy/Dockerfile", str(build))

    # Prometheus scrapes every replica on the metrics port the image serves.
    prom_mounts = services.get("prometheus", {}).get("volumes", [])
    check("compose.yaml runs a Prometheus with the shipped configuration",
          any(m.split(":")[0] == "./prometheus/prometheus.yml" for m in prom_mounts), str(prom_mounts))
    lint = subprocess.run(["promtool", "check", "config", deploy_file("prometheus/prometheus.yml")],
                          capture_output=True, text=True)
    check("promtool check config accepts deploy/prometheus/prometheus.yml", lint.returncode == 0,
          lint.stdout + lint.stderr)
    prom = yaml.safe_load(open(deploy_file("prometheus/prometheus.yml"), encoding="utf-8"))
    targets = sorted(t for job in prom.get("scrape_configs", []) for sc in job.get("static_configs", [])
                     for t in sc.get("targets", []))
    replicas = sorted(f"{name}:9100" for name, svc in services.items() if svc.get("image") == "pstrack:latest")
    check("Prometheus scrapes each pstrack replica's metrics port", targets == replicas and len(replicas) == 2,
          f"{targets} vs {replicas}")
    dockerfile = open(deploy_file("Dockerfile"), encoding="utf-8").read()
    check("the image serves metrics on 9100 and HTTP/JSON on 8080",
          "--metrics_listen=0.0.0.0:9100" in dockerfile and "--http_listen=0.0.0.0:8080" in dockerfile)


# --- .dockerignore -----------------------------------------------------------

def dockerignore_patterns(text):
    """Docker's .dockerignore rules (moby/patternmatcher): one pattern per
    line, '#' comments, '!' re-includes, paths cleaned and relative to the
    context; '*' and '?' stay within a path segment, '**' spans any number
    of segments; the last matching pattern decides, and a pattern that
    matches a directory excludes everything below it."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        p = os.path.normpath(line[1:] if negate else line).lstrip("/")
        rx, i = "", 0
        while i < len(p):
            c = p[i]
            if p.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
                continue
            if p.startswith("**", i):
                rx += ".*"
                i += 2
                continue
            rx += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
            i += 1
        patterns.append((re.compile(rx + r"\Z"), negate))
    return patterns


def ignored(patterns, path):
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for rx, negate in patterns:
        if any(rx.match(p) for p in prefixes):
            result = not negate
    return result


def test_dockerignore():
    path = os.path.join(SRC, ".dockerignore")
    check(".dockerignore exists", os.path.isfile(path))
    if not os.path.isfile(path):
        return
    patterns = dockerignore_patterns(open(path, encoding="utf-8").read())
    # What a first tools/run.sh (and a test run) leaves in the tree.
    left = ["build/release/CMakeCache.txt", "build/asan/services/pstrack-server", "var/admin.key",
            "var/pstrack.db", "var/pstrack.db-wal", "var/pstrack.db-shm", ".git/config",
            "tests/e2e/__pycache__/deploy_kit.cpython-311.pyc", "my.db", "certs/server.key", "tls/server.pem"]
    kept = [p for p in left if not ignored(patterns, p)]
    check("the build context leaves out build trees, the database, keys and .git", not kept, str(kept))
    files = []
    if shutil.which("git") and os.path.isdir(os.path.join(SRC, ".git")):
        tracked = subprocess.run(["git", "-C", SRC, "ls-files"], capture_output=True, text=True)
        files = tracked.stdout.split() if tracked.returncode == 0 else []
    if not files:
        # No git here (a fresh machine may have the tree from an archive):
        # every file on disk but what builds, runs and tests leave behind.
        left_behind = (".db", ".db-wal", ".db-shm", ".db-journal", ".key", ".pem", ".log", ".pyc")
        for d, dirs, fs in os.walk(SRC):
            rel = os.path.relpath(d, SRC)
            dirs[:] = [x for x in dirs if x not in ("__pycache__", "node_modules")
                       and not (rel == "." and x in ("build", "var", ".git"))]
            files += [os.path.normpath(os.path.join(rel, f)) for f in fs if not f.endswith(left_behind)]
    dropped = [f for f in files if ignored(patterns, f)]
    check(f"the build context keeps every source file ({len(files)})", files and not dropped, str(dropped[:10]))
    # The matcher itself: a pattern list without the build tree keeps it.
    check("without 'build' in .dockerignore the cache would be sent (the check can fail)",
          not ignored(dockerignore_patterns("var\n**/*.key\n"), "build/release/CMakeCache.txt"))


def main():
    global SRC, ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--source-dir", required=True)
    p.add_argument("--server-bin", required=True)
    ARGS = p.parse_args()
    SRC = os.path.abspath(ARGS.source_dir)
    work = tempfile.mkdtemp(prefix="pstrack-deploy-")
    try:
        for test in (lambda: test_nginx(work), lambda: test_systemd(work), test_kubernetes_and_image,
                     test_dockerignore):
            try:
                test()
            except Exception:
                check("no exception", False, traceback.format_exc())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
