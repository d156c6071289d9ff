// Builds the chat page (web/) into dist/web/: typechecks web/ with its own tsconfig (DOM lib),
// bundles web/main.ts with marked and DOMPurify into app.js (esbuild), and copies index.html and
// app.css. `npm run build` runs it after tsc; src/serve/web.ts serves the result at /.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const out = join(root, "dist", "web");

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const check = spawnSync(process.execPath, [tsc, "-p", join(web, "tsconfig.json")], {
  stdio: "inherit",
});
if (check.status !== 0) {
  console.error("build-web: web/ does not typecheck");
  process.exit(1);
}

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(web, "main.ts")],
  outfile: join(out, "app.js.tmp"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
renameSync(join(out, "app.js.tmp"), join(out, "app.js"));
for (const f of ["index.html", "app.css"]) {
  copyFileSync(join(web, f), join(out, `${f}.tmp`));
  renameSync(join(out, `${f}.tmp`), join(out, f));
}
console.log("build-web: dist/web/ (index.html, app.js, app.css)");
