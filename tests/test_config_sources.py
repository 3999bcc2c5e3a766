"""Config loaders: the lines YAML mappings and lists remember, and shell scripts as commands."""
from __future__ import annotations

import pickle

from mllint.sources.config import YMap, load_shell, load_yaml_documents

MANIFEST = """\
base: &base
  image: acme/model:1.2.0
  replicas: 2
service:
  <<: *base
  replicas: 3
  command:
    - python
    - serve.py
  env: {MODE: prod}
  script: |
    echo one
    echo two
"""


def test_yaml_key_and_value_lines():
    (data, first), = load_yaml_documents("m.yaml", MANIFEST)
    assert first == 1 and isinstance(data, YMap)
    svc = data["service"]
    assert svc.line == 5
    # an explicit key after the merge keeps its own line; merged keys keep the anchor's lines
    assert svc["replicas"] == 3 and svc.line_of("replicas") == 6
    assert svc["image"] == "acme/model:1.2.0" and svc.line_of("image") == 2
    # a block value starts below its key; an inline one on the key's line
    assert svc.line_of("command") == 7 and svc.value_line("command") == 8
    assert svc["command"].line_of(1) == 9
    assert svc.value_line("env") == 10 and svc["env"].line_of("MODE") == 10
    assert svc.line_of("script") == 11 and svc.value_line("script") == 11
    # a missing key: the default, else the mapping's own line
    assert svc.line_of("nope") == 5 and svc.line_of("nope", 42) == 42 and svc.value_line("nope", 0) == 0
    assert svc["command"].line_of(7) == svc["command"].line


def test_yaml_lines_survive_pickling_and_large_mappings():
    text = "top:\n" + "".join(f"  key{i}: {i}\n" for i in range(40)) + "  nested:\n    a: 1\n"
    (data, _), = load_yaml_documents("big.yaml", text)
    again = pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
    for m in (data["top"], again["top"]):
        assert [m.line_of(f"key{i}") for i in range(40)] == list(range(2, 42))
        assert m.line_of("nested") == 42 and m.value_line("nested") == 43 and m["nested"].line_of("a") == 43
    # keys are interned: every manifest shares one copy of each key name
    (other, _), = load_yaml_documents("other.yaml", "top:\n  key7: x\n")
    assert next(iter(other["top"])) is next(k for k in data["top"] if k == "key7")


def test_yaml_mapping_changed_after_loading_falls_back_to_its_own_line():
    (data, _), = load_yaml_documents("m.yaml", "a: 1\nb:\n  c: 2\n")
    data["z"] = 3  # a rule that adds a key: no line is trusted any more, none is wrong
    assert data.line_of("b") == data.line == 1 and data.line_of("z") == 1
    assert YMap({"x": 1}).line_of("x") == 1  # built in code, not loaded


def test_shell_script_commands():
    text = "set -e\nexport MODEL=s3://b/model.pkl\naws s3 cp model.pkl \\\n  $MODEL && echo done\ncat <<EOF\nnot a command\nEOF\n"
    (doc,) = load_shell("deploy.sh", text.encode())
    cmds = doc.data.commands
    assert [(c.argv, c.line) for c in cmds] == [
        (("set", "-e"), 1), (("export", "MODEL=s3://b/model.pkl"), 2),
        (("aws", "s3", "cp", "model.pkl", "$MODEL"), 3), (("echo", "done"), 3), (("cat", "<<EOF"), 5)]
    again = pickle.loads(pickle.dumps(doc.data, pickle.HIGHEST_PROTOCOL))
    assert [(c.argv, c.line) for c in again.commands] == [(c.argv, c.line) for c in cmds]


def test_templates_are_not_reported_as_invalid_yaml(make_repo):
    """A YAML file that is a template (Helm/Jinja ``{{ }}``, or a %-format filled by jsonnet or
    Python) is not YAML until rendered: no ML0000. A valid file that merely contains ``%(x)s`` (a
    logging format) is still read, and a broken file without placeholders is still reported."""
    from mllint.config import Settings
    from mllint.engine import scan

    root = make_repo({
        "monitoring/prometheus.yml": "global:\n  external_labels:\n    cluster: %(cluster-name)s\n",
        "templates/aws/feature_store.yaml": "project: demo\nonline_store:\n  region: %AWS_REGION%\n",
        "logging.yaml": "formatters:\n  plain:\n    format: '%(asctime)s %(message)s'\n",
        "chart/deploy.yaml": "replicas: {{ .Values.replicas }}\n",
        "chart/templates/config/configmap.yaml": "data:\n  cfg.yaml: |\n{{- if .Values.cfg }}\n{{ .Values.cfg | indent 4 }}\n"
                                                 "{{- end }}\n",
        "broken.yaml": "a: [1, 2\n",
    })
    result = scan([str(root)], Settings(root=str(root), jobs=1))
    assert sorted(f.location.path for f in result.findings if f.code == "ML0000") == ["broken.yaml"]
    assert "logging.yaml" in {d.path for fr in result.files for d in fr.docs}


def test_dockerfile_here_documents_are_bodies_not_instructions():
    """A BuildKit here-document's lines (a Python script fed to ``RUN python -``, a file written by
    ``COPY <<EOF``) are not instructions: ``from pathlib import Path`` is no ``FROM``.  A bash
    here-string (``<<<``) has no body."""
    from mllint.sources.config import load_dockerfile

    text = ("FROM python:3.11.9-slim\n"
            "RUN python - <<'EOF'\nfrom pathlib import Path\nprint(Path.cwd())\nEOF\n"
            "COPY <<-CONF <<PY /etc/\n\tfrom = here\n\tCONF\nfrom x import y\nPY\n"
            "RUN cat <<< \"from here\"\n"
            "CMD [\"python\"]\n")
    (doc,) = load_dockerfile("Dockerfile", text.encode())
    got = [(i.keyword, i.line, i.end_line) for i in doc.data.instructions]
    assert got == [("FROM", 1, 1), ("RUN", 2, 5), ("COPY", 6, 10), ("RUN", 11, 11), ("CMD", 12, 12)]
