// Bundles src/app.js (the page logic and supertokens-web-js) into dist/app.js with esbuild.
// `node build.mjs` builds once; serve.mjs calls build() at start.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
export const distDir = path.join(here, "dist");

export async function build({ quiet = false } = {}) {
  const result = await esbuild.build({
    entryPoints: [path.join(here, "src", "app.js")],
    outfile: path.join(distDir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2020"],
    sourcemap: true,
    minify: true,
    legalComments: "linked",
    logLevel: quiet ? "silent" : "warning",
    metafile: true,
  });
  if (!quiet) {
    const bytes = result.metafile.outputs[path.relative(process.cwd(), path.join(distDir, "app.js"))]?.bytes;
    console.log(`built dist/app.js${bytes ? ` (${Math.round(bytes / 1024)} KiB)` : ""}`);
  }
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  build().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
