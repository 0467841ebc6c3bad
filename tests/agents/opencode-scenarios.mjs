// OpenCode's scenarios: what `opencode run` is asked, which provider it
// talks to (`chat`: an `@ai-sdk/openai-compatible` custom provider at the
// Chat Completions mock, mock/openai-chat.mjs; `anthropic`: the built-in
// `anthropic` provider with `options.baseURL` at the Messages mock,
// mock/anthropic.mjs) and what each conversation answer bills, in that
// API's terms. Chat: `input` includes `cached`, `output` includes
// `reasoning`. Anthropic: `input` leaves the cache out.
//
// A run with `continue: true` is `opencode run --continue`: the same
// session goes on. OpenCode also asks the model for each new session's
// title (a request with no tools): the mocks answer and bill it as `side`,
// and OpenCode stores it nowhere.

const chat = (input, cached, output, reasoning = 0) => ({ input, cached, output, reasoning });
const msg = (input, output, cache_read = 0, cache_write_5m = 0) => ({ input, output, cache_read, cache_write_5m });

export const opencodeScenarios = [
  {
    name: 'text',
    about: 'one text answer (custom openai-compatible provider)',
    api: 'chat',
    runs: [{ prompt: 'say hello' }],
    script: [{ label: 'hello', text: 'Hello from the mock.', usage: chat(1200, 0, 40) }],
  },
  {
    name: 'reasoning',
    about: 'reasoning before the answer: reasoning tokens inside completion, billed once as output',
    api: 'chat',
    runs: [{ prompt: 'think, then answer: what is 6 times 7?' }],
    script: [{ label: 'reason+answer', reasoning: 'Six sevens are forty-two.', text: '42', usage: chat(1830, 0, 412, 380) }],
  },
  {
    name: 'tool',
    about: 'a bash call (it runs) answered by a follow-up step, with cached input',
    api: 'chat',
    runs: [{ prompt: 'run echo tool-ran' }],
    script: [
      { label: 'call', reasoning: 'The user wants the command run.', bash: 'echo tool-ran', usage: chat(2000, 512, 60, 20) },
      { label: 'follow-up', text: 'The command printed tool-ran.', usage: chat(2300, 1920, 25) },
    ],
  },
  {
    name: 'continue',
    about: 'a session continued with --continue: one session, three answers',
    api: 'chat',
    runs: [{ prompt: 'first question' }, { prompt: 'second question', continue: true }, { prompt: 'third question', continue: true }],
    script: [
      { label: 'first', text: 'First answer.', usage: chat(1500, 0, 30) },
      { label: 'second', reasoning: 'Think again.', text: 'Second answer.', usage: chat(1700, 1408, 35, 8) },
      { label: 'third', text: 'Third answer.', usage: chat(1900, 1664, 20) },
    ],
  },
  {
    name: 'anthropic',
    about: 'built-in anthropic provider: thinking and a bash call, its follow-up, then --continue; cache writes and reads',
    api: 'anthropic',
    runs: [{ prompt: 'run echo tool-ran' }, { prompt: 'and again', continue: true }],
    script: [
      {
        label: 'call',
        blocks: [
          { type: 'thinking', thinking: 'Run it.' },
          { type: 'tool_use', name: 'bash', input: { command: 'echo tool-ran', description: 'Runs echo' } },
        ],
        usage: msg(900, 70, 0, 2000),
      },
      { label: 'follow-up', blocks: [{ type: 'text', text: 'It printed tool-ran.' }], usage: msg(40, 12, 2000, 150) },
      { label: 'continued', blocks: [{ type: 'text', text: 'Continued answer.' }], usage: msg(30, 9, 2150, 60) },
    ],
  },
];
