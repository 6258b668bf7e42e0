// The demo service every provider exports. Answers name the provider version so that a
// consumer (and a test) can tell which subset served a call.
export const DEMO_SERVICE = "org.apache.dubbo.samples.DemoService";

export type DemoMethod = "sayHello" | "sayBye" | "echo";
export const DEMO_METHODS: readonly DemoMethod[] = ["sayHello", "sayBye", "echo"];

export function isDemoMethod(m: string): m is DemoMethod {
  return (DEMO_METHODS as readonly string[]).includes(m);
}

export function demoAnswer(method: DemoMethod, arg: string, version: string): string {
  switch (method) {
    case "sayHello": return `Hello ${arg}, from ${version}`;
    case "sayBye": return `Bye ${arg}, from ${version}`;
    case "echo": return `${arg} (echo from ${version})`;
  }
}

/** Reads the provider version back out of an answer; null when the text is not an answer. */
export function versionOfAnswer(answer: unknown): string | null {
  if (typeof answer !== "string") return null;
  const m = /from (\S+?)\)?$/.exec(answer);
  return m ? m[1] : null;
}
