/**
 * Writes the inputs of test/fixtures/hf-rope-extend.json (configs made by `posenc extend`, seq lens, layer types)
 * as JSON on stdout, for test/fixtures/hf-rope-reference.py. Regenerate the fixture with:
 *   npx tsx scripts/hf-rope-extend-cases.ts > cases.json
 *   /usr/bin/python3 test/fixtures/hf-rope-reference.py cases.json > test/fixtures/hf-rope-extend.json
 */
import { extendCases } from "../test/helpers/hf-rope-extend-cases.js";

process.stdout.write(`${JSON.stringify(extendCases(), null, 1)}\n`);
