#!/usr/bin/env node
// Serves the demo login page on its own origin (default http://localhost:3000): public/, the bundle built
// into dist/, a /config.js naming the API origin, and the page again for /auth/verify (the magic link),
// /auth/callback/<provider> (where a third-party provider sends the browser back) and any other path under
// /auth.
//
//   node serve.mjs [--port 3000] [--host 127.0.0.1] [--api-domain http://localhost:3001] [--no-build]
//
// Environment: DEMO_PORT, DEMO_HOST, DEMO_API_DOMAIN.
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const publicDir = path.join(here, "public");
const distDir = path.join(here, "dist");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

const { values: options } = parseArgs({
  options: {
    port: { type: "string", default: process.env.DEMO_PORT || "3000" },
    host: { type: "string", default: process.env.DEMO_HOST || "127.0.0.1" },
    "api-domain": { type: "string", default: process.env.DEMO_API_DOMAIN || "http://localhost:3001" },
    "no-build": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (options.help) {
  console.log("usage: node serve.mjs [--port 3000] [--host 127.0.0.1] [--api-domain http://localhost:3001] [--no-build]");
  process.exit(0);
}

const apiDomain = options["api-domain"].replace(/\/+$/, "");
const configJs = `window.demoConfig = ${JSON.stringify({ apiDomain })};\n`;

async function file(dir, name) {
  const full = path.join(dir, name);
  if (!full.startsWith(dir + path.sep)) {
    return null;
  }
  try {
    return await fs.readFile(full);
  } catch {
    return null;
  }
}

function send(res, status, type, body) {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}

async function handle(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return send(res, 405, TYPES[".txt"], "method not allowed\n");
  }
  const { pathname } = new URL(req.url, "http://localhost");
  if (pathname === "/config.js") {
    return send(res, 200, TYPES[".js"], configJs);
  }
  // The page itself, for / and for the website's auth paths (the magic link is /auth/verify?…#code, a
  // provider's callback /auth/callback/<id>?code=…&state=…).
  if (pathname === "/" || pathname === "/index.html" || pathname === "/auth" || pathname.startsWith("/auth/")) {
    return send(res, 200, TYPES[".html"], await file(publicDir, "index.html"));
  }
  let name;
  try {
    name = decodeURIComponent(pathname.slice(1));
  } catch {
    return send(res, 400, TYPES[".txt"], "bad request\n");
  }
  const type = TYPES[path.extname(name)] || "application/octet-stream";
  const body = (await file(distDir, name)) ?? (await file(publicDir, name));
  if (body === null) {
    return send(res, 404, TYPES[".txt"], "not found\n");
  }
  return send(res, 200, type, body);
}

if (!options["no-build"]) {
  const { build } = await import("./build.mjs");
  await build();
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) {
      send(res, 500, TYPES[".txt"], "internal error\n");
    } else {
      res.destroy();
    }
  });
});

server.listen(Number(options.port), options.host, () => {
  const { port } = server.address();
  const shown = options.host === "127.0.0.1" || options.host === "::1" ? "localhost" : options.host;
  console.log(`demo page on http://${shown}:${port} (listening on ${options.host}:${port}; API ${apiDomain})`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
