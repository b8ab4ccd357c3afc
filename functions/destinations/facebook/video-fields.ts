import type { FacebookDestinationFields } from './schema.ts';

/**
 * The Graph parameters a video is published with. Graph's Page videos take a `title` and a
 * `description` (the post's text); the seeds' older fields map onto them: `name` is the older name
 * of the title (the schema accepts it only when it equals `title`), and `message` (the post's text
 * in the old API) and `caption` (a line under the post) join `description` in that order, each in
 * a paragraph of its own, a repeated text once.
 */
export function videoParameters(destination: FacebookDestinationFields): Record<string, string> {
  const paragraphs = [destination.message, destination.description, destination.caption]
    .map((text) => text?.trim() ?? '')
    .filter((text, index, all) => text !== '' && all.indexOf(text) === index);
  return { title: destination.title, ...(paragraphs.length === 0 ? {} : { description: paragraphs.join('\n\n') }) };
}
