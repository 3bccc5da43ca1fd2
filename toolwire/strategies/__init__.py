"""How a model turns a sentence into calls: ``native`` (models with tool calling), ``plain`` (one
JSON-Schema-constrained answer, the evaluation baseline) and ``staged`` (grammar-capable local
models: choose the function, then each argument)."""
