import assert from "node:assert/strict";
import { test } from "node:test";
import { lineChartSvg, thin, ticks } from "./svg-plot.js";

test("line chart: valid SVG with one path per series, labels escaped", () => {
  const train = Array.from(
    { length: 5000 },
    (_, i) => [i, 10 * Math.exp(-i / 1000) + 1] as [number, number],
  );
  const svg = lineChartSvg(
    [
      { name: "train", points: train },
      {
        name: "val <b>",
        points: [
          [0, 10],
          [2500, 2],
          [4999, 1.5],
        ],
      },
    ],
    { title: "loss", xLabel: "step", yLabel: "loss", maxPoints: 400 },
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.match(svg, /val &#60;b&#62;/);
  assert.ok(svg.length < 40000, `svg is ${svg.length} bytes`);
  assert.doesNotMatch(svg, /NaN|Infinity/);
});

test("thinning keeps bucket means and ticks are round numbers", () => {
  const pts = Array.from({ length: 10 }, (_, i) => [i, i] as [number, number]);
  assert.deepEqual(thin(pts, 5), [
    [0.5, 0.5],
    [2.5, 2.5],
    [4.5, 4.5],
    [6.5, 6.5],
    [8.5, 8.5],
  ]);
  assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(3.2, 7.9), [4, 5, 6, 7]);
});
