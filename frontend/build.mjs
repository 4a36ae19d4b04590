// Builds static/ from node_modules: compiles our Sass over GOV.UK Frontend and copies the
// JavaScript and images (never the GDS Transport font files) the pages use.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "static");

rmSync(join(out, "govuk"), { recursive: true, force: true });
mkdirSync(join(out, "css"), { recursive: true });
mkdirSync(join(out, "govuk", "assets"), { recursive: true });

const result = sass.compile(join(root, "frontend", "application.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter(root)],
  quietDeps: true,
  silenceDeprecations: ["import"],
});
// The footer's copyright crest is the Royal coat of arms, which this service must not use;
// we never render that element, so its image reference goes (and the file is not copied).
const css = result.css.replaceAll(/url\("[^"]*govuk-crest\.svg"\)/g, "none");
if (css.includes("govuk-crest")) throw new Error("the crest is still referenced");
writeFileSync(join(out, "css", "application.css"), css);
cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk", "govuk-frontend.min.js"));
cpSync(join(govuk, "assets", "images"), join(out, "govuk", "assets", "images"), {
  recursive: true,
  filter: (src) => !/govuk-(crest|opengraph)/.test(src),
});
console.log(`built static/css/application.css (${css.length} bytes) and copied GOV.UK Frontend`);
