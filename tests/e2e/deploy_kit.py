"""The shipped deploy files as the tests use them. Only what must differ on a
test machine is replaced, and each replacement checks the shape it expects,
so a change to the shipped file either carries through to the tests or fails
them loudly."""

import os
import re


def nginx_site(source_dir, replicas, listen=None):
    """deploy/nginx/pstrack.conf with the upstream's server lines pointed at
    `replicas` (host:port each) and, if given, the listen address replaced.
    Everything else (timeouts, body size, retries) is the shipped text."""
    path = os.path.join(source_dir, "deploy", "nginx", "pstrack.conf")
    text = open(path, encoding="utf-8").read()
    upstream = re.search(r"upstream pstrack \{(.*?)\n\}", text, re.S)
    if not upstream:
        raise ValueError(f"{path}: no 'upstream pstrack {{ ... }}' block")
    body = upstream.group(1)
    servers = re.findall(r"^(\s*)server\s+(\S+)(.*);$", body, re.M)
    if not servers:
        raise ValueError(f"{path}: the upstream block has no server line")
    indent, _, options = servers[0]
    lines = "".join(f"{indent}server {r}{options};\n" for r in replicas)
    # Keep comments and other directives (keepalive) where they were: the
    # replicas go where the first shipped server line was.
    first = re.search(r"^\s*server\s+\S+.*;$", body, re.M).start()
    new_body = body[:first] + lines.rstrip("\n") + "\n" + \
        re.sub(r"^\s*server\s+\S+.*;\n?", "", body[first:], flags=re.M)
    text = text[:upstream.start(1)] + new_body.rstrip("\n") + text[upstream.end(1):]
    if listen is not None:
        text, n = re.subn(r"^(\s*)listen\s+\S+(\s+http2)?;", lambda m: f"{m.group(1)}listen {listen}{m.group(2) or ''};",
                          text, flags=re.M)
        if n != 1:
            raise ValueError(f"{path}: expected one listen line, found {n}")
    return text


def nginx_main_conf(prefix, site_file, access_log_format=None):
    """A minimal nginx.conf for running nginx unprivileged under `prefix`
    (pid, logs and temp files there) that includes `site_file` in http {}, as
    deploy/nginx/pstrack.conf's header asks."""
    log = ""
    if access_log_format:
        log = (f"  log_format pstrack_test '{access_log_format}';\n"
               f"  access_log {prefix}/logs/access.log pstrack_test;\n")
    return f"""worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
{log}  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  include {site_file};
}}
"""
