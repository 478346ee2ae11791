"""What the terraform/ tests share: the parsed configuration and how to read it.

No Terraform provider can be downloaded here; python-hcl2 parses every .tf file and these
helpers follow references, expand locals and find containers, grants and settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_args

import hcl2
from pydantic import AliasChoices

from app.settings import (
    Settings,
)

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
HCL = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
RUN_TYPES = (
    "google_cloud_run_v2_service",
    "google_cloud_run_v2_worker_pool",
    "google_cloud_run_v2_job",
)
API = ("google_cloud_run_v2_service", "api")
RELAY_NAME = "focus-relay"
SEVEN_DAYS = "604800s"
REF = re.compile(r"\$\{(local|var)\.(\w+)\}")
PUBSUB_AGENT = re.compile(
    r"^serviceAccount:service-\$\{data\.google_project\.\w+\.number\}"
    r"@gcp-sa-pubsub\.iam\.gserviceaccount\.com$"
)


def default(field: str) -> Any:
    """A setting's default, whatever the environment of the test run says."""
    return Settings.model_fields[field].default


def one(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The single nested block `key` of `body` (python-hcl2 lists every block)."""
    found = body.get(key)
    assert isinstance(found, list), f"no `{key}` block in {sorted(body)}"
    assert len(found) == 1, f"{len(found)} `{key}` blocks where one was expected"
    block: dict[str, Any] = found[0]
    return block


def ref(expression: Any, kind: str, attribute: str) -> str:
    """The resource name in `${kind.NAME.attribute}`; fails on any other expression."""
    match = re.fullmatch(rf"\$\{{{kind}\.(\w+)\.{attribute}\}}", str(expression))
    assert match, f"{expression!r} is not a reference to {kind}.*.{attribute}"
    return match.group(1)


@dataclass(frozen=True)
class SecretRef:
    secret: str
    """The expression naming the secret, e.g. `${google_secret_manager_secret.x.secret_id}`."""


@dataclass(frozen=True)
class Terraform:
    resources: dict[str, dict[str, dict[str, Any]]]
    locals: dict[str, Any]
    variables: dict[str, dict[str, Any]]
    blocks: dict[str, list[dict[str, Any]]]
    """Every top-level block by kind (terraform, provider, check, output...)."""

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.resources.get(kind, {})

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        assert name in self.of_type(kind), f"no resource {kind}.{name}"
        return self.of_type(kind)[name]

    def expand(self, value: Any) -> Any:
        """Substitute `${local.x}` and `${var.x}` (its default) where they are known."""
        if not isinstance(value, str):
            return value
        whole = REF.fullmatch(value)
        if whole:
            known, found = self._lookup(*whole.groups())
            return self.expand(found) if known else value

        def substitute(match: re.Match[str]) -> str:
            known, found = self._lookup(*match.groups())
            found = self.expand(found) if known else None
            return str(found) if isinstance(found, str | int | float) else match.group(0)

        return REF.sub(substitute, value)

    def _lookup(self, kind: str, name: str) -> tuple[bool, Any]:
        if kind == "local":
            return name in self.locals, self.locals.get(name)
        variable = self.variables.get(name, {})
        return variable.get("default") is not None, variable.get("default")


@cache
def terraform() -> Terraform:
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    local_values: dict[str, Any] = {}
    variables: dict[str, dict[str, Any]] = {}
    blocks: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        parsed = hcl2.loads(path.read_text(), serialization_options=HCL)
        for kind, entries in parsed.items():
            for entry in entries:
                if kind == "resource":
                    for resource_type, named in entry.items():
                        for name, body in named.items():
                            bucket = resources.setdefault(resource_type, {})
                            assert name not in bucket, f"{resource_type}.{name} twice"
                            bucket[name] = body
                elif kind == "locals":
                    local_values.update(entry)
                elif kind == "variable":
                    variables.update(entry)
                else:
                    blocks.setdefault(kind, []).append(entry)
    return Terraform(resources, local_values, variables, blocks)


def containers(tf: Terraform) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every container of every Cloud Run resource: (address, revision template, container)."""
    for kind in RUN_TYPES:
        for name, body in tf.of_type(kind).items():
            template = one(body, "template")
            if kind == "google_cloud_run_v2_job":
                template = one(template, "template")
            for container in template.get("containers", []):
                yield f"{kind}.{name}", template, container


def environment(tf: Terraform, container: Mapping[str, Any]) -> dict[str, Any]:
    """A container's variables: name -> expression (as written), or a SecretRef."""
    env: dict[str, Any] = {}
    for dynamic in container.get("dynamic", []):
        for label, spec in dynamic.items():
            assert label == "env", f"dynamic {label!r} in a container is not understood here"
            assert one(spec, "content") == {"name": "${env.key}", "value": "${env.value}"}
            items = tf.expand(spec["for_each"])
            assert isinstance(items, dict), f"dynamic env over {spec['for_each']!r}"
            env.update(items)
    for entry in container.get("env", []):
        name = entry["name"]
        assert name not in env, f"{name} set twice"
        if "value_source" in entry:
            env[name] = SecretRef(one(one(entry, "value_source"), "secret_key_ref")["secret"])
        else:
            env[name] = entry["value"]
    return env


def container_of(tf: Terraform, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The app container (the one running `focus`) of a Cloud Run resource."""
    found = [
        (template, container)
        for at, template, container in containers(tf)
        if at == address and container.get("command") == ["focus"]
    ]
    assert len(found) == 1, f"{address} should run exactly one `focus` container"
    return found[0]


def api_env(tf: Terraform) -> dict[str, Any]:
    return environment(tf, container_of(tf, ".".join(API))[1])


def relay(tf: Terraform) -> tuple[str, dict[str, Any]]:
    found = [
        (f"{kind}.{name}", body)
        for kind in RUN_TYPES
        for name, body in tf.of_type(kind).items()
        if tf.expand(body["name"]) == RELAY_NAME
    ]
    assert len(found) == 1, f"one Cloud Run resource should be named {RELAY_NAME}"
    return found[0]


def setting_names() -> dict[str, str]:
    """Every environment variable Settings reads (upper case) -> its field."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [choice for choice in alias.choices if isinstance(choice, str)]
        elif isinstance(alias, str):
            choices = [alias]
        else:
            choices = [prefix + field]
        names.update({choice.upper(): field for choice in choices})
    return names


def concrete(tf: Terraform, name: str, value: Any) -> str:
    """A value the setting accepts: the literal when terraform has one, else a stand-in of the
    setting's type (what only exists once applied: URLs, emails, secrets)."""
    if not isinstance(value, SecretRef):
        value = tf.expand(value)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str) and "${" not in value:
            return value
    annotation = Settings.model_fields[setting_names()[name.upper()]].annotation
    types = set(get_args(annotation)) | {annotation}
    if int in types:
        return "1"
    if float in types:
        return "0.5"
    if bool in types:
        return "false"
    if Path in types:
        return "/placeholder"
    return "https://placeholder.invalid"


def members_of(sa: str) -> set[str]:
    """How terraform can name service account `sa` as an IAM member."""
    return {
        f"${{google_service_account.{sa}.member}}",
        f"serviceAccount:${{google_service_account.{sa}.email}}",
    }


def grants(tf: Terraform, kind: str) -> Iterator[dict[str, Any]]:
    yield from tf.of_type(kind).values()


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def invoker_sa(tf: Terraform) -> str:
    return ref(api_env(tf)["FOCUS_INTERNAL_INVOKER"], "google_service_account", "email")


def assert_reads_secret(tf: Terraform, secret: str, sa: str) -> None:
    readers: set[str] = set()
    for grant in grants(tf, "google_secret_manager_secret_iam_member"):
        if grant["secret_id"] == f"${{google_secret_manager_secret.{secret}.id}}":
            assert grant["role"] == "roles/secretmanager.secretAccessor"
            members = grant.get("for_each", grant["member"])
            readers |= set(strings(tf.expand(members)))
    assert readers & members_of(sa), f"{sa} cannot read secret {secret}"
    versions = [
        version
        for version in tf.of_type("google_secret_manager_secret_version").values()
        if f"google_secret_manager_secret.{secret}." in version["secret"]
    ]
    assert not versions, f"the value of secret {secret} must not be in terraform"
