// Runs themes/commons/static/js/story-file.js under Node for tests/test_form.py:
// reads {config, answers, ratings, tags} as JSON on stdin, writes the story file.
import { readFileSync } from "node:fs";
import { storyYaml } from "../themes/commons/static/js/story-file.js";

const input = JSON.parse(readFileSync(0, "utf-8"));
process.stdout.write(storyYaml(input.config, input.answers, input.ratings, input.tags));
