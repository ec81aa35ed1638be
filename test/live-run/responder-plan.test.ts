// Where a live run puts far-side responders for `respond: "reflect"` (live/run.ts
// responderPlan): on the interfaces where, in the model, forwarded requests leave and the
// responder's own answers never do; refused when both leave on one interface, since a
// live responder cannot tell its own forwarded answers from requests.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { responderPlan } from "../../live/run.js";
import { loadInput, loadScenarioFile } from "../../bin/scenario-file.js";
import { parseScenario } from "../../sim/scenario/parse.js";
import { ROOT } from "../cli.js";

describe("responderPlan", () => {
  it("SNAT lan → wan: a responder on wan only (the answers leave on lan)", () => {
    const scn = loadScenarioFile(path.join(ROOT, "traces/examples/snat-reflect/scenario.json"));
    expect(responderPlan(scn, loadInput(scn).input)).toEqual({ ifaces: ["wan"] });
  });

  it("a hairpin (lan host → lan host) sends requests and answers out of lan: refused", () => {
    const scn = parseScenario(
      {
        name: "hairpin-reflect",
        interfaces: [
          { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24"] },
          { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"] },
        ],
        neighbors: [
          { ip: "198.18.1.10", mac: "02:00:00:00:01:0a" },
          { ip: "198.18.1.20", mac: "02:00:00:00:01:14" },
        ],
        traffic: { generator: { flows: 2, packets: 4, pps: 1000, sizes: [64], proto: "udp", dst: "198.18.1.20", src: "198.18.1.10/32" }, respond: "reflect" },
      },
      "/tmp/hairpin-reflect.json",
      "/tmp",
    );
    const plan = responderPlan(scn, loadInput(scn).input);
    expect(plan).toEqual({ refusal: expect.stringMatching(/both leave on lan/) });
  });
});
