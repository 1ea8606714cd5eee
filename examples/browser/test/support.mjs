// Helpers for the end-to-end test: child processes whose output lines can be awaited, and a recorder of
// what one browser page sent and received (including CORS preflights, which only the DevTools protocol
// reports).
import { spawn } from "node:child_process";

const running = new Set();

function killAll() {
  for (const proc of running) {
    try {
      proc.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
// Whatever happens to the test process, its children do not outlive it.
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[signal]);
  });
}

/**
 * A child process whose stdout and stderr lines are kept and can be waited for. `stdin: "pipe"` keeps a pipe
 * open to the child's stdin (for children that exit when their stdin closes); the default is /dev/null.
 */
export class Proc {
  constructor(name, command, args, { env = process.env, cwd, stdin = "ignore" } = {}) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.lines = [];
    this.waiters = [];
    this.exited = null;
    this.child = spawn(command, args, { env, cwd, stdio: [stdin, "pipe", "pipe"] });
    running.add(this);
    this.exitPromise = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = { code, signal };
        running.delete(this);
        for (const waiter of this.waiters.splice(0)) {
          waiter.reject(new Error(`${name} exited (${signal || `code ${code}`}) before printing ${waiter.pattern}\n${this.tail()}`));
        }
        resolve(this.exited);
      });
    });
    this.child.on("error", (error) => {
      this.lines.push(`[spawn error] ${error.message}`);
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let pending = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        pending += chunk;
        let newline;
        while ((newline = pending.indexOf("\n")) >= 0) {
          this.addLine(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
        }
      });
      stream.on("end", () => {
        if (pending) {
          this.addLine(pending);
        }
      });
    }
  }

  addLine(line) {
    // Strip ANSI colours, in case the child colours its log anyway.
    const clean = line.replace(/\x1b\[[0-9;]*m/g, "");
    this.lines.push(clean);
    if (process.env.E2E_VERBOSE) {
      console.log(`[${this.name}] ${clean}`);
    }
    for (const waiter of [...this.waiters]) {
      if (waiter.from <= this.lines.length - 1) {
        const match = clean.match(waiter.pattern);
        if (match) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          clearTimeout(waiter.timer);
          waiter.resolve(match);
        }
      }
    }
  }

  /** The last lines of output, for error messages. */
  tail(count = 30) {
    return this.lines.slice(-count).map((line) => `  [${this.name}] ${line}`).join("\n");
  }

  /** The number of lines so far: pass it as `from` to wait only for lines printed after now. */
  mark() {
    return this.lines.length;
  }

  /** Resolves with the match of the first line (from index `from` on) that matches `pattern`. */
  waitForLine(pattern, { from = 0, timeoutMs = 10_000 } = {}) {
    for (let i = from; i < this.lines.length; i += 1) {
      const match = this.lines[i].match(pattern);
      if (match) {
        return Promise.resolve(match);
      }
    }
    if (this.exited) {
      return Promise.reject(new Error(`${this.name} has exited; it never printed ${pattern}\n${this.tail()}`));
    }
    return new Promise((resolve, reject) => {
      const waiter = { pattern, from, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Lines (from index `from` on) that match `pattern`. */
  linesMatching(pattern, from = 0) {
    return this.lines.slice(from).filter((line) => pattern.test(line));
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000) {
    if (this.exited) {
      return this.exited;
    }
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const result = await this.exitPromise;
    clearTimeout(timer);
    return result;
  }
}

/**
 * Records a page's traffic: every response (with its request), failed requests, console messages, and
 * through the DevTools protocol the CORS preflights and CORS failures.
 */
export async function recordTraffic(page) {
  const traffic = {
    exchanges: [],
    failed: [],
    console: [],
    preflights: [],
    corsFailures: [],
  };
  page.on("console", (message) =>
    traffic.console.push({ type: message.type(), text: message.text(), url: message.location()?.url || "" }));
  page.on("response", (response) => {
    const request = response.request();
    // The body of each fetch is read at once: once the page navigates away (a third-party sign-in leaves
    // for the provider right after asking for its URL), the browser no longer has it.
    const body = request.resourceType() === "fetch" ? response.text().catch((error) => ({ error })) : null;
    body?.catch(() => {});
    traffic.exchanges.push({
      body,
      at: Date.now(),
      method: request.method(),
      url: response.url(),
      path: new URL(response.url()).pathname,
      status: response.status(),
      request,
      response,
    });
  });
  page.on("requestfailed", (request) => {
    traffic.failed.push({ method: request.method(), url: request.url(), error: request.failure()?.errorText });
  });
  const cdp = await page.context().newCDPSession(page);
  const urls = new Map();
  cdp.on("Network.requestWillBeSent", (event) => urls.set(event.requestId, event.request.url));
  cdp.on("Network.responseReceived", (event) => {
    if (event.type === "Preflight") {
      const headers = Object.fromEntries(
        Object.entries(event.response.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      traffic.preflights.push({ url: event.response.url, status: event.response.status, headers });
    }
  });
  cdp.on("Network.loadingFailed", (event) => {
    if (event.corsErrorStatus) {
      traffic.corsFailures.push({
        url: urls.get(event.requestId),
        corsError: event.corsErrorStatus.corsError,
        errorText: event.errorText,
      });
    }
  });
  await cdp.send("Network.enable");
  return traffic;
}

/**
 * Keeps the bodies of the page's fetch responses whose URL matches `urlPattern` (a DevTools pattern, `*`
 * wildcards): the DevTools protocol pauses each such response before the page sees it, copies its body, and
 * lets it go on unchanged. Needed where the page navigates away as soon as it has read a response (the
 * browser then drops the body, and `response.text()` races the navigation). Resolves with the list the
 * bodies are pushed to, as `{url, status, body}`.
 */
export async function captureResponseBodies(page, urlPattern) {
  const captured = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Fetch.requestPaused", async (event) => {
    try {
      const { body, base64Encoded } = await cdp.send("Fetch.getResponseBody", { requestId: event.requestId });
      captured.push({
        url: event.request.url,
        status: event.responseStatusCode,
        body: base64Encoded ? Buffer.from(body, "base64").toString("utf8") : body,
      });
    } catch (error) {
      captured.push({ url: event.request.url, status: event.responseStatusCode, error: error.message });
    }
    await cdp.send("Fetch.continueResponse", { requestId: event.requestId }).catch(() => {});
  });
  await cdp.send("Fetch.enable", { patterns: [{ urlPattern, resourceType: "Fetch", requestStage: "Response" }] });
  return captured;
}

/** The JSON body of a recorded fetch exchange (read when it arrived). */
export async function exchangeJson(exchange) {
  const text = exchange.body ? await exchange.body : await exchange.response.text();
  if (text && typeof text === "object" && text.error) {
    throw text.error;
  }
  return JSON.parse(text);
}

/** Splits a comma-separated header value into a sorted, lowercased, de-duplicated list. */
export function headerSet(value) {
  return [...new Set(String(value || "").split(",").map((item) => item.trim().toLowerCase()).filter(Boolean))].sort();
}

/** Decodes a `front-token` header: base64 JSON `{uid, ate, up}`. */
export function decodeFrontToken(value) {
  return JSON.parse(Buffer.from(value, "base64").toString("utf8"));
}

/** Polls `predicate` every 50 ms until it returns a truthy value; fails after `timeoutMs`. */
export async function eventually(predicate, message, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms: ${typeof message === "function" ? message() : message}`);
    }
    await sleep(50);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
