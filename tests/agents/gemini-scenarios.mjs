// The Gemini CLI's scenarios: what `gemini -p` is asked (each run one
// invocation, in order; later ones may resume the session), what the mock
// Gemini API (mock/gemini.mjs steps, in the order the CLI asks) answers, and
// what each answer bills, in the API's terms: `prompt` includes `cached`;
// `thoughts` and `tool` (tool-use prompt tokens) are beside them.

const u = (prompt, cached, candidates, thoughts = 0, tool = 0) => ({ prompt, cached, candidates, thoughts, tool });

export const geminiScenarios = [
  {
    name: 'text',
    about: 'a text answer from gemini-2.5-flash',
    model: 'gemini-2.5-flash',
    runs: [{ prompt: 'Say hello.' }],
    script: [{ label: 'hello', text: 'Hello from the mock Gemini.', usage: u(1200, 0, 30) }],
  },
  {
    name: 'thinking',
    about: 'thoughts streamed before the answer: billed as output, beside the candidates; cache and tool-use prompt tokens',
    model: 'gemini-2.5-pro',
    runs: [{ prompt: 'Think, then answer: what is 6 times 7?' }],
    script: [{ label: 'think+answer', thought: 'Six sevens are forty-two.', text: '42', usage: u(18_000, 12_000, 12, 380, 40) }],
  },
  {
    name: 'tool',
    about: 'a run_shell_command call (--yolo: the command runs), its output sent back in the follow-up request',
    model: 'gemini-2.5-pro',
    runs: [{ prompt: 'Run echo tool-ran, then answer.', yolo: true }],
    script: [
      { label: 'shell', thought: 'Run it.', shell: 'echo tool-ran', usage: u(2000, 0, 20, 16) },
      { label: 'answer', text: 'The command printed tool-ran.', usage: u(2300, 1900, 25) },
    ],
    // The follow-up carries what the command printed: the tool really ran.
    check: ({ mock }) => (mock.requests.some((r) => r.toolOutputs.some((o) => o.includes('tool-ran')))
      ? []
      : ['no request carried the shell output: the tool did not run']),
  },
  {
    name: 'resume',
    about: 'a session resumed twice with --resume latest (the CLI appends to the same chat log, copying the history), a tool call in the last turn',
    model: 'gemini-2.5-pro',
    runs: [
      { prompt: 'First question.' },
      { prompt: 'Second question.', resume: true },
      { prompt: 'Third question: run echo again.', resume: true, yolo: true },
    ],
    script: [
      { label: 'first', text: 'First answer.', usage: u(1500, 0, 30) },
      { label: 'second', text: 'Second answer.', usage: u(1700, 1400, 35, 8) },
      { label: 'shell', shell: 'echo again', usage: u(1900, 1600, 50, 10) },
      { label: 'third', text: 'Third answer.', usage: u(2100, 1800, 20) },
    ],
    sessions: 1,
  },
  {
    name: 'long-context',
    about: "a prompt over gemini-2.5-pro's 200k tier: every token at the long-context rates",
    model: 'gemini-2.5-pro',
    runs: [{ prompt: 'Summarize the long document.' }],
    script: [{ label: 'long', thought: 'A long read.', text: 'A summary.', usage: u(230_000, 180_000, 64, 512, 40) }],
    longContext: 1,
  },
];
