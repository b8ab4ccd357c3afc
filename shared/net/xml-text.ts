/**
 * Reads the fields the service takes from AWS's XML answers (S3's, STS's): flat records of text
 * elements, with no attributes, mixed content or namespaces that matter. A general XML parser
 * would turn each answer into a tree of objects only to read a handful of its leaves.
 */

const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Text with XML's escapes undone: the five named entities, character references and CDATA sections. */
function unescapeXml(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_whole, data: string) => escapeXml(data))
    .replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
      if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
      return namedEntities[entity] ?? whole;
    });
}

/** Text escaped for an XML element's content. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&]/g, (character) => (character === '<' ? '&lt;' : character === '>' ? '&gt;' : '&amp;'));
}

/**
 * The contents of every `<name>` element of `xml`, in order, as written (they may hold elements of
 * their own); an empty element (`<name/>`) has empty contents. `name` is a plain element name.
 */
export function xmlElements(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}(?:\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</${name}\\s*>)`, 'g');
  return Array.from(xml.matchAll(pattern), (match) => match[1] ?? '');
}

/** The text of the first `<name>` element of `xml`, unescaped; undefined when it has none. */
export function xmlText(xml: string, name: string): string | undefined {
  const [first] = xmlElements(xml, name);
  return first === undefined ? undefined : unescapeXml(first);
}
