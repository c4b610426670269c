// cli.mjs: what validate_document.mjs and validate_response.mjs share: their two options,
// --openapi FILE (default openapi/openapi.json of this repository) and --modules DIR (the directory
// holding node_modules, installed by npm ci; default $WFP_NODE_MODULES, else this directory), and a
// `require` that loads packages from DIR.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};

export const docPath = path.resolve(option("--openapi", path.join(here, "..", "..", "openapi", "openapi.json")));
const modules = option("--modules", process.env.WFP_NODE_MODULES || here);
export const require = createRequire(path.join(path.resolve(modules), "package.json"));
