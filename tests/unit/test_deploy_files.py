"""The deployment files (``Dockerfile``, ``compose.yaml``, ``docs/deploy.md``) read as text and
YAML, so CI checks them without a container engine; building the image and resolving the
compose file run only where an engine answers (skipped otherwise, with the reason)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLWIRE_SERVICES = ("api", "worker")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, comments dropped and continued lines joined."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
             if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if i.strip()]


def test_compose_runs_the_api_and_workers_on_postgres_and_redis() -> None:
    services = compose()["services"]
    assert {"api", "worker", "postgres", "redis"} <= set(services)
    for name in ("api", "worker", "postgres", "redis"):
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name}: no health check"
    assert any("/var/lib/postgresql/data" in str(v) for v in services["postgres"]["volumes"])
    named = set(compose().get("volumes") or {})
    for name in TOOLWIRE_SERVICES:
        service = services[name]
        volumes = service["volumes"]
        assert "toolwire-data:/data" in volumes, name
        assert service["environment"]["TOOLWIRE_DATABASE_URL"].startswith("postgresql")
        assert service["environment"]["TOOLWIRE_BROKER_URL"].startswith("redis://redis:")
        for dependency in ("postgres", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy"
    for service in services.values():  # every named volume is declared
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith(("/", ".")):
                assert volume.split(":")[0] in named, volume


def test_api_and_workers_export_metrics_from_a_directory_of_their_own() -> None:
    """prometheus-client's multiprocess directory is a tmpfs per container (a shared one
    would mix the processes of several containers), and the worker serves /metrics."""
    services = compose()["services"]
    for name in TOOLWIRE_SERVICES:
        directory = services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert {"type": "tmpfs", "target": directory} in [
            {"type": v.get("type"), "target": v.get("target")}
            for v in services[name]["volumes"] if isinstance(v, dict)], name
    worker = services["worker"]
    command = worker["command"]
    port = command[command.index("--metrics-port") + 1]
    assert command[command.index("--metrics-host") + 1] == "0.0.0.0"
    assert port in [str(p) for p in worker["expose"]]
    # the image's own check, which reads the role and its port from the command line
    assert worker["healthcheck"]["test"] == ["CMD", "python", "-m", "toolwire.healthcheck"]


def test_compose_builds_one_image_for_every_toolwire_service() -> None:
    services = compose()["services"]
    toolwire = [s for s in services.values() if s.get("image") == "toolwire:local"]
    assert len(toolwire) >= 3 and [s for s in toolwire if "build" in s] == [services["migrate"]]
    assert all(s["pull_policy"] == "never" for s in toolwire if "build" not in s)


def test_the_dockerfile_builds_offline_and_checks_the_role_it_runs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    # a `# syntax=` parser directive makes BuildKit fetch that frontend from a registry
    assert not re.search(r"^#\s*syntax\s*=", text, re.MULTILINE | re.IGNORECASE)
    instructions = dockerfile_instructions()
    [check] = [i for i in instructions if i.upper().startswith("HEALTHCHECK")]
    assert '"python", "-m", "toolwire.healthcheck"' in check
    downloads = [i for i in instructions if i.startswith("RUN") and "pip install" in i]
    assert downloads and all("--mount=type=secret,id=cacerts" in i for i in downloads)


def test_the_dockerfile_is_multi_stage_portable_and_not_root() -> None:
    instructions = dockerfile_instructions()
    stages = [i for i in instructions if i.upper().startswith("FROM ")]
    assert len(stages) >= 2 and all(" AS " in s.upper() for s in stages), stages
    assert any(i.upper().startswith("COPY --FROM=") for i in instructions)
    users = [i.split()[1] for i in instructions if i.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert not [i for i in instructions if "march=native" in i]
    # llama.cpp comes from the portable build script (its flags: tests/unit/test_llama_build.py)
    assert any("scripts/llama_wheel.sh" in i for i in instructions if i.startswith("RUN "))


def test_the_documents_the_deploy_files_name_exist() -> None:
    for name in ("Dockerfile", "compose.yaml", "README.md"):
        for path in re.findall(r"\bdocs/[\w./-]+\.md\b", (ROOT / name).read_text()):
            assert (ROOT / path).is_file(), f"{name} names {path}, which does not exist"
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    for topic in ("docker compose up", "--scale", "PROMETHEUS_MULTIPROC_DIR", "--metrics-port"):
        assert topic in deploy, topic


def _engine() -> tuple[str, str]:
    """The first container engine whose daemon answers, else skip with the reason."""
    reasons = []
    for name in ("docker", "podman"):
        path = shutil.which(name)
        if path is None:
            reasons.append(f"no {name}")
            continue
        info = subprocess.run([path, "info"], capture_output=True, text=True, timeout=30)
        if info.returncode == 0:
            return name, path
        reasons.append(f"{name} does not answer: {(info.stderr or info.stdout).strip()[:120]}")
    pytest.skip("no container engine: " + "; ".join(reasons))


def _compose_command() -> list[str]:
    """``docker compose`` / ``podman compose`` / ``docker-compose``: the first that runs."""
    for name in ("docker", "podman"):
        path = shutil.which(name)
        if path and subprocess.run([path, "compose", "version"], capture_output=True,
                                   timeout=30).returncode == 0:
            return [path, "compose"]
    if path := shutil.which("docker-compose"):
        return [path]
    pytest.skip("no compose command (docker compose, podman compose, docker-compose)")


def test_compose_config_resolves() -> None:
    """Needs only the compose command, not a daemon."""
    done = subprocess.run([*_compose_command(), "config", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.integration
def test_the_image_builds_and_runs_both_roles() -> None:
    """scripts/image_check.sh, the script CI runs after the tests: build (BuildKit, the CA
    bundle as a secret, the portable llama.cpp wheel reused), then serve and worker against
    this machine's PostgreSQL and Redis. Skipped only where no engine answers."""
    _engine()
    done = subprocess.run([str(ROOT / "scripts" / "image_check.sh")], cwd=ROOT,
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "passed in" in done.stderr
