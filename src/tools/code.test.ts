/**
 * The code tool: REPL output, the tasks' code calls, and every escape and exhaustion case the
 * sandbox must contain (docs/architecture.md lists them). Each hostile case checks the text the
 * model reads and that the next call is answered normally within a second.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { arithmetic } from "../tasks/arithmetic.js";
import { SPLITS } from "../tasks/common.js";
import { letters } from "../tasks/letters.js";
import { fixtureContext } from "../tasks/test-fixtures.js";
import { codeCallsOf } from "../tasks/tool-call-check.js";
import { createCodeTool } from "./code.js";
import type { Tool } from "./tool.js";

let tool: Tool;
before(async () => {
  tool = await createCodeTool();
});
after(() => tool.dispose?.());

/** Runs a call, then checks the tool answers `1 + 1` normally within a second. */
function contained(code: string): { output: string; ok: boolean; error?: string; ms: number } {
  const t0 = performance.now();
  const r = tool.run(code);
  const ms = performance.now() - t0;
  const t1 = performance.now();
  const next = tool.run("1 + 1");
  assert.deepEqual(next, { ok: true, output: "2" }, `after ${JSON.stringify(code)}`);
  assert.ok(performance.now() - t1 < 1000, "the next call is answered within a second");
  return { ...r, ms };
}

test("REPL output: the last value, printed lines, errors as a REPL shows them", () => {
  const cases: [string, string, boolean][] = [
    ["2 * 3", "6", true],
    ["0.1 + 0.2", "0.30000000000000004", true],
    ['"garden"[2]', "r", true],
    ["[1, 2]", "[1,2]", true],
    ["({ a: 1 })", '{"a":1}', true],
    ["(function f() {})", "[Function: f]", true],
    ["let x = 5", "undefined", true],
    ["null", "null", true],
    ["2n ** 70n", "1180591620717411303424n", true],
    ["console.log('hi', 3, [1]); 7", "hi 3 [1]\n7", true],
    ["console.log('only')", "only", true],
    ["Promise.resolve(3)", "3", true],
    ["new Promise(() => {})", "Promise { <pending> }", true],
    ["x", "Uncaught ReferenceError: 'x' is not defined", false],
    ["throw new Error('boom')", "Uncaught Error: boom", false],
    ["throw 5", "Uncaught 5", false],
    ["(async () => { throw new TypeError('late') })()", "Uncaught TypeError: late", false],
  ];
  for (const [code, output, ok] of cases)
    assert.deepEqual(
      { output: tool.run(code).output, ok: tool.run(code).ok },
      { output, ok },
      code,
    );
  const syntax = tool.run("1 +");
  assert.equal(syntax.error, "syntax");
  assert.match(syntax.output, /^SyntaxError: .+ \(line 1\)$/);
  assert.equal(tool.run("throw new Error('x')").error, "exception");
});

test("every code call the arithmetic and letters tasks teach gives the output they inject", () => {
  const ctx = fixtureContext(3);
  let calls = 0;
  for (const task of [arithmetic, letters])
    for (const split of SPLITS)
      for (const ex of task.examples(split, ctx))
        for (const c of codeCallsOf(ex.conversation.messages.at(-1)!.content)) {
          assert.deepEqual(tool.run(c.code), { ok: true, output: c.output }, c.code);
          calls++;
        }
  assert.ok(calls > 1000, `${calls} calls checked`);
});

describe("the sandbox contains escapes and exhaustion, and serves the next call", () => {
  test("no host: files, environment, processes, network, modules, timers", () => {
    const absent = [
      "process",
      "require",
      "module",
      "fetch",
      "XMLHttpRequest",
      "WebSocket",
      "setTimeout",
      "setInterval",
      "std",
      "os",
      "Deno",
      "Bun",
      "WebAssembly",
    ];
    for (const name of absent)
      assert.equal(contained(`typeof ${name}`).output, "undefined", `${name} is absent`);
    assert.match(
      contained("require('fs').readFileSync('/etc/passwd')").output,
      /^Uncaught ReferenceError: 'require' is not defined/,
    );
    assert.match(
      contained("process.env.HOME").output,
      /^Uncaught ReferenceError: 'process' is not defined/,
    );
    assert.match(contained("require('child_process').execSync('id')").output, /ReferenceError/);
    assert.match(contained("fetch('http://127.0.0.1:8080/')").output, /ReferenceError: 'fetch'/);
    for (const m of ["fs", "os", "std", "child_process", "node:fs"]) {
      const r = contained(`import('${m}')`);
      assert.equal(r.ok, false);
      assert.match(r.output, /could not load module/, m);
    }
    const statement = contained("import fs from 'fs'; 1");
    assert.equal(statement.ok, false);
    assert.match(statement.output, /could not load module 'fs'/);
  });

  test("no host globals through prototypes or constructors", () => {
    assert.equal(contained("Object.keys(globalThis).join(',')").output, "console");
    assert.equal(
      contained("this.constructor.constructor('return typeof process')()").output,
      "undefined",
    );
    assert.equal(contained("Function('return Object.keys(this)')().join()").output, "console");
    assert.equal(
      contained("(() => {}).constructor('return typeof require')()").output,
      "undefined",
    );
    assert.equal(
      contained("console.log.constructor('return typeof process')()").output,
      "undefined",
      "the host-made console.log's constructor is the guest's Function",
    );
    assert.equal(
      contained("Object.getPrototypeOf(Object.getPrototypeOf(console.log)) === Object.prototype")
        .output,
      "true",
    );
    assert.equal(contained("({}).__proto__.__proto__").output, "null");
    // changes to the built-ins do not outlive a call
    contained("Object.prototype.polluted = 1; Array.prototype.push = null; globalThis.kept = 1");
    assert.equal(
      tool.run("typeof ({}).polluted + ' ' + typeof kept").output,
      "undefined undefined",
    );
    assert.equal(tool.run("let a = []; a.push(1); a").output, "[1]");
  });

  test("infinite loops time out after 2 s, even when they catch", () => {
    for (const code of ["while (true) {}", "for (;;) { try { while (true) {} } catch (e) {} }"]) {
      const r = contained(code);
      assert.deepEqual([r.ok, r.error, r.output], [false, "timeout", "Error: timed out after 2 s"]);
      assert.ok(r.ms < 3500, `${code}: ${r.ms.toFixed(0)} ms`);
    }
    const regex = contained("/(a*)*b/.test('a'.repeat(40))");
    assert.equal(regex.error, "timeout", "catastrophic backtracking");
  });

  test("deep recursion is a stack overflow, in guest code and in built-ins", () => {
    for (const code of [
      "function f() { return f() } f()",
      "JSON.parse('['.repeat(100000))",
      "let a = []; for (let i = 0; i < 1e5; i++) a = [a]; JSON.stringify(a).length",
    ]) {
      const r = contained(code);
      assert.equal(r.ok, false);
      assert.match(r.output, /stack overflow|the interpreter stopped/, code);
    }
    assert.equal(
      contained("function f() { return f() } f()").output,
      "RangeError: stack overflow (too much recursion; stack limit 256 KiB)",
    );
  });

  test("allocation bombs hit the memory limit, never the host", () => {
    for (const code of [
      "'x'.repeat(2 ** 28)",
      "new ArrayBuffer(2 ** 30)",
      "let a = []; while (true) a.push({ x: a.length })",
      "let a = []; for (;;) a = a.concat(a, [1])",
      "let a = []; while (true) a.push(new Array(1e6).fill(1))",
    ]) {
      const r = contained(code);
      assert.deepEqual(
        [r.ok, r.error, r.output],
        [false, "memory", "Error: out of memory (limit 32 MiB)"],
        code,
      );
      assert.ok(r.ms < 1500, `${code}: ${r.ms.toFixed(0)} ms`);
    }
    // the cap is the guest's, not the host's: the worker's memory stays bounded
    const before = process.memoryUsage().rss;
    contained("let a = []; while (true) a.push('x'.repeat(1e6) + a.length)");
    assert.ok(process.memoryUsage().rss - before < 200 * 2 ** 20);
    assert.equal(
      contained("throw ''").output,
      'Uncaught ""',
      "an empty throw is not taken for memory",
    );
  });

  test("huge outputs are cut to 2,000 characters, with a note", () => {
    for (const code of ["'x'.repeat(1e6)", "for (let i = 0; i < 1e5; i++) console.log(i)"]) {
      const r = contained(code);
      assert.equal(r.ok, true);
      assert.ok(r.output.length < 2100, `${r.output.length} characters`);
      assert.match(r.output, /… \(output cut at 2,000 characters\)$/);
    }
  });

  test("empty code and code over the length limit are refused without running", () => {
    for (const code of ["", "   \n"])
      assert.deepEqual(tool.run(code), {
        ok: false,
        error: "empty",
        output: "Error: empty code block: write JavaScript between the code tokens",
      });
    const long = tool.run(`1 + ${"1 + ".repeat(2000)}1`);
    assert.equal(long.error, "too-long");
    assert.match(long.output, /^Error: code too long \(8,005 characters, at most 4,000\)$/);
  });

  test("limits are options; a tool can be disposed", async () => {
    const quick = await createCodeTool({ timeMs: 200, outputChars: 10 });
    try {
      assert.equal(quick.run("while (true) {}").output, "Error: timed out after 0.2 s");
      assert.equal(
        quick.run("'abcdefghijklmnop'").output,
        "abcdefghij\n… (output cut at 10 characters)",
      );
    } finally {
      quick.dispose?.();
    }
    assert.throws(() => quick.run("1"), /after dispose/);
  });
});
