/**
 * Child process of the kill -9 resume test: trains the tiny model with checkpoints in argv[2], resuming from
 * whatever is there, with the config given as JSON in argv[3].
 */
import { parseExperimentConfig } from "../../src/lab/config.js";
import { useSingleThreadKernels } from "../../src/lab/runtime.js";
import { train } from "../../src/lab/train.js";
import { modelFactory } from "./tiny-model.js";

const [dir, configJson] = process.argv.slice(2);
const config = parseExperimentConfig(JSON.parse(configJson));
useSingleThreadKernels();
await train(
  { config, encoding: config.encodings[0], seed: config.seeds[0] },
  { checkpointDir: dir, resume: true, modelFactory },
);
