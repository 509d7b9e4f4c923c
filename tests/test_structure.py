"""The package's layers: data flows one way, data -> layers -> models ->
training -> tuning / inference -> export -> cli, read from the import
statements themselves."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "erann_tf"
LEVELS = {
    "atomic": 0,
    "checks": 0,
    "quiet": 0,
    "lazy": 0,
    "plots": 0,
    "data": 0,
    "layers": 1,
    "models": 2,
    "training": 3,
    "tuning": 4,
    "inference": 4,
    "export": 5,
    "cli": 6,
}


def _imports(path):
    """(line, module) of every erann_tf import in `path`, at any depth."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("erann_tf"):
            if node.module == "erann_tf":
                yield from ((node.lineno, f"erann_tf.{a.name}") for a in node.names)
            else:
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.startswith("erann_tf."))


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in LEVELS:
            yield path, parts


def test_no_module_imports_from_a_layer_above_it():
    upward = []
    for path, parts in _modules():
        for line, module in _imports(path):
            target = module.split(".")[1]
            if LEVELS.get(target, -1) > LEVELS[parts[0]]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert not upward, "\n".join(upward)


def _target(module, name):
    """`from module import name` imports the submodule module.name where there is one."""
    folder = PACKAGE.parent.joinpath(*module.split("."))
    is_module = folder.joinpath(f"{name}.py").is_file() or folder.joinpath(name).is_dir()
    return f"{module}.{name}" if is_module else module


def test_no_import_cycle_at_module_level():
    graph = {}
    for path, parts in _modules():
        name = "erann_tf." + ".".join(p for p in parts if p != "__init__")
        tree = ast.parse(path.read_text())
        graph[name] = {
            _target(node.module, alias.name)
            for node in tree.body  # module level only: a local import runs later, on demand
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("erann_tf")
            for alias in node.names
        }

    def visit(node, stack):
        if node in stack:
            return stack[stack.index(node) :] + [node]
        for child in graph.get(node, ()):
            cycle = visit(child, [*stack, node])
            if cycle:
                return cycle
        return None

    for start in graph:
        cycle = visit(start, [])
        assert cycle is None, " -> ".join(cycle)
