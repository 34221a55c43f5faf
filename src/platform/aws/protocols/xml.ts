import { NimbusError } from '../../../errors/nimbus-error.js';
/**
 * The little XML the REST-XML protocol needs: writing response documents, and reading the small
 * request documents (DeleteObjects, CompleteMultipartUpload, tagging). The reader knows no DTDs
 * or entity declarations and refuses them, so no document can expand or fetch anything.
 */

export interface XmlNode {
  name: string;
  attrs?: Record<string, string>;
  /** Undefined entries are skipped, so optional elements can be written inline. */
  children?: (XmlNode | undefined)[];
  text?: string;
}

/** An element with text content; undefined text leaves the element out. */
export function textNode(name: string, text: string | number | boolean | undefined) {
  return text === undefined ? undefined : { name, text: String(text) };
}

export function xmlDocument(root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root)}`;
}

function render(node: XmlNode): string {
  const attrs = Object.entries(node.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const inner =
    node.text !== undefined
      ? escapeXml(node.text)
      : (node.children ?? []).map((c) => (c ? render(c) : '')).join('');
  return `<${node.name}${attrs}>${inner}</${node.name}>`;
}

/** Markup characters and control characters (keys may hold any UTF-8) as references. */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes.
  return text.replace(/[&<>"'\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

export interface XmlElement {
  /** The local name: a namespace prefix is dropped. */
  name: string;
  children: XmlElement[];
  /** The element's own text, references resolved. */
  text: string;
}

/** The codec answers it with the service's own MalformedXML error. */
export class XmlSyntaxError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_AWS_BAD_XML', message);
  }
}

const token =
  /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<!([^>]*)>|<\/([^\s>]+)\s*>|<([^\s>/]+)((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)|</g;

export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  for (const m of text.matchAll(token)) {
    const [whole, cdata, declaration, closing, opening, , selfClosing, chars] = m;
    const top = stack[stack.length - 1]!;
    if (cdata !== undefined) top.text += cdata;
    else if (declaration !== undefined) throw new XmlSyntaxError('DTDs are not accepted');
    else if (closing !== undefined) {
      if (stack.length === 1 || localName(closing) !== top.name) {
        throw new XmlSyntaxError(`unexpected </${closing}>`);
      }
      stack.pop();
    } else if (opening !== undefined) {
      const element: XmlElement = { name: localName(opening), children: [], text: '' };
      top.children.push(element);
      if (selfClosing !== '/') stack.push(element);
    } else if (chars !== undefined) {
      top.text += decodeReferences(chars);
    } else if (whole === '<') {
      throw new XmlSyntaxError('stray <');
    }
  }
  if (stack.length !== 1 || root.children.length !== 1) {
    throw new XmlSyntaxError('not one well-formed root element');
  }
  return root.children[0]!;
}

export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeReferences(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(Number.parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return safeCodePoint(Number.parseInt(ref.slice(1), 10), whole);
    const value = named[ref];
    if (value === undefined) throw new XmlSyntaxError(`unknown entity &${ref};`);
    return value;
  });
}

function safeCodePoint(code: number, whole: string): string {
  if (code > 0x10ffff) throw new XmlSyntaxError(`bad character reference ${whole}`);
  return String.fromCodePoint(code);
}
