// The scenarios: what Claude Code is asked, what the mock answers, and what
// each answer bills. `script(ctx)` lists the conversation's responses in the
// order Claude Code asks for them (main thread and subagent alike: -p runs
// them one at a time); `usage` is what the response bills, in the API's
// terms (input excludes the cache).

import fs from 'node:fs';
import path from 'node:path';

const text = (t) => ({ type: 'text', text: t });
const thinking = (t) => ({ type: 'thinking', thinking: t });
const tool = (name, input) => ({ type: 'tool_use', name, input });
const bash = (command) => tool('Bash', { command, description: `Run ${command}` });

export const scenarios = [
  {
    name: 'text',
    about: 'two text turns: -p, then -p --continue in the same project',
    model: 'claude-haiku-4-5',
    runs: [{ prompt: 'Say hello.' }, { prompt: 'Say goodbye.', continue: true }],
    script: () => [
      { label: 'hello', blocks: [text('Hello from the mock.')], usage: { input: 1200, output: 9, cache_write_5m: 3100 } },
      { label: 'goodbye', blocks: [text('Goodbye from the mock.')], usage: { input: 14, output: 8, cache_read: 4300, cache_write_1h: 30 } },
    ],
  },
  {
    name: 'thinking',
    about: 'a thinking block (with signature) before the answer',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Think, then answer: what is 6 times 7?' }],
    script: () => [
      {
        label: 'think+answer',
        blocks: [thinking('Six sevens are forty-two.'), text('42')],
        usage: { input: 830, output: 412, cache_write_5m: 2500, cache_write_1h: 1800 },
      },
    ],
  },
  {
    name: 'tools',
    about: 'Bash and Read tool calls, their results, and the follow-up requests',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Count the lines of notes.txt, then read it.' }],
    setup: (w) => fs.writeFileSync(path.join(w.project, 'notes.txt'), 'one\ntwo\nthree\n'),
    script: (ctx) => [
      { label: 'bash', blocks: [bash('wc -l notes.txt')], usage: { input: 2100, output: 57, cache_write_5m: 5400 } },
      {
        label: 'read',
        blocks: [text('Now reading it.'), tool('Read', { file_path: path.join(ctx.world.project, 'notes.txt') })],
        usage: { input: 40, output: 61, cache_read: 7500 },
      },
      { label: 'answer', blocks: [text('notes.txt has 3 lines: one, two, three.')], usage: { input: 35, output: 22, cache_read: 7650, cache_write_5m: 90 } },
    ],
  },
  {
    name: 'subagent',
    about: 'an Agent (Task) tool call: the subagent runs Bash and answers; the main thread runs Bash and answers',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Ask a subagent what day it is.' }],
    script: () => [
      {
        label: 'main: Agent',
        blocks: [tool('Agent', { description: 'Find the date', prompt: 'Run date and report the day.', subagent_type: 'general-purpose' })],
        usage: { input: 3000, output: 80, cache_write_5m: 6000 },
      },
      { label: 'subagent: bash', subagent: true, blocks: [bash('date +%A')], usage: { input: 1500, output: 30, cache_write_5m: 4200 } },
      { label: 'subagent: answer', subagent: true, blocks: [text('It is a weekday.')], usage: { input: 20, output: 12, cache_read: 5700 } },
      // One more main-thread tool call after the subagent's result, so that
      // the Agent tool's PostToolUse hook is surely delivered before -p exits.
      { label: 'main: bash', blocks: [bash('echo checked')], usage: { input: 25, output: 14, cache_read: 9000 } },
      { label: 'main: answer', blocks: [text('The subagent says it is a weekday.')], usage: { input: 30, output: 10, cache_read: 9100 } },
    ],
  },
  {
    name: 'resume',
    about: 'a session answered, then continued with --resume',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Remember the word apricot.' }, { prompt: 'Which word did I ask you to remember?', resume: true }],
    script: () => [
      { label: 'first', blocks: [text('Remembered: apricot.')], usage: { input: 900, output: 11, cache_write_5m: 4000 } },
      { label: 'resumed', blocks: [text('apricot')], usage: { input: 60, output: 5, cache_read: 4900 } },
    ],
  },
  {
    name: 'fork',
    about: 'a session resumed with --fork-session: a new session id that starts from a copy of the old one',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Pick a colour.' }, { prompt: 'Which colour did you pick?', fork: true }],
    script: () => [
      { label: 'first', blocks: [text('Teal.')], usage: { input: 880, output: 4, cache_write_5m: 3900 } },
      { label: 'forked', blocks: [text('I picked teal.')], usage: { input: 45, output: 7, cache_read: 4780 } },
    ],
  },
  {
    name: 'long',
    about: 'a long session: 24 requests (23 Bash calls, then the answer), the cache growing',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Echo the numbers 1 to 23, one command each.' }],
    script: () => {
      const steps = [];
      for (let i = 1; i <= 23; i += 1) {
        steps.push({
          label: `bash ${i}`,
          blocks: [bash(`echo ${i}`)],
          usage: { input: 7 + i, output: 40 + i, cache_read: 5000 + 300 * i, cache_write_5m: 250 + i, cache_write_1h: i % 5 === 0 ? 100 : 0 },
        });
      }
      steps.push({ label: 'answer', blocks: [text('Done: 1 to 23.')], usage: { input: 3, output: 9, cache_read: 12_000 } });
      return steps;
    },
  },
  {
    name: 'longctx',
    about: 'prompts over the 200k long-context threshold (every token at the tier rates) and one just under it',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Summarize the big file.' }],
    script: () => [
      { label: 'under', blocks: [bash('true')], usage: { input: 100_000, output: 100, cache_write_5m: 99_000, cache_write_1h: 1_000 } },
      { label: 'over', blocks: [text('It is big.')], usage: { input: 1_200, output: 350, cache_read: 200_000, cache_write_5m: 5_000, cache_write_1h: 2_000 } },
    ],
  },
  {
    name: 'retry',
    about: 'API errors (529 overloaded, then 500) answered by Claude Code retrying: billed once',
    model: 'claude-sonnet-4-5',
    runs: [{ prompt: 'Say hi despite the errors.' }],
    script: () => [
      { label: '529', error: 529 },
      { label: '500', error: 500 },
      { label: 'after retries', blocks: [text('Hi, at last.')], usage: { input: 700, output: 6, cache_write_5m: 2600 } },
    ],
  },
];
