import { describe, expect, it } from 'vitest';
import { escapeXml, xmlElements, xmlText } from '../../shared/net/xml-text.ts';

/** A page of ListParts as S3 writes it: a namespace on the root, a marker whose name begins with the parts'. */
const listParts = `<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>deliveries</Bucket>
  <Key>renders/welcome.mp4</Key>
  <PartNumberMarker>0</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <IsTruncated>false</IsTruncated>
  <Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag><Size>5242880</Size></Part>
  <Part>
    <PartNumber>2</PartNumber><ETag>"b2"</ETag><Size>5242880</Size>
  </Part>
  <Part><PartNumber>3</PartNumber><ETag>&#34;c3&#34;</ETag><Size>17</Size></Part>
</ListPartsResult>`;

describe('Function: xmlElements', () => {
  it('answers the contents of every element of the name, in the order written, leaving out the elements whose names only begin with it', () => {
    // Act
    const parts = xmlElements(listParts, 'Part');

    // Assess
    expect(parts).toHaveLength(3);
    expect(parts.map((part) => xmlText(part, 'PartNumber'))).toEqual(['1', '2', '3']);
    expect(parts.map((part) => xmlText(part, 'Size'))).toEqual(['5242880', '5242880', '17']);
    expect(parts[0]).toBe('<PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag><Size>5242880</Size>');
  });

  it('gives an empty element, written short or long, empty contents', () => {
    const xml = '<Parts><Part/><Part></Part><Part />  <Part><Size>1</Size></Part></Parts>';

    expect(xmlElements(xml, 'Part')).toEqual(['', '', '', '<Size>1</Size>']);
  });

  it('finds elements with attributes and closing tags with space before the bracket', () => {
    const xml = '<Root xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner id="1"><ID>o</ID></Owner ></Root>';

    expect(xmlElements(xml, 'Root')).toEqual(['<Owner id="1"><ID>o</ID></Owner >']);
    expect(xmlElements(xml, 'Owner')).toEqual(['<ID>o</ID>']);
  });

  it('answers no elements when there are none of the name', () => {
    expect(xmlElements(listParts, 'Upload')).toEqual([]);
    expect(xmlElements(listParts, 'Par')).toEqual([]);
  });
});

describe('Function: xmlText', () => {
  it('reads the first element of the name, not one whose name begins with it, wherever that stands', () => {
    expect(xmlText(listParts, 'PartNumber')).toBe('1');
    expect(xmlText(listParts, 'PartNumberMarker')).toBe('0');
    expect(xmlText(listParts, 'NextPartNumberMarker')).toBe('3');
    expect(xmlText('<R><PartNumberMarker>7</PartNumberMarker><Part><PartNumber>9</PartNumber></Part></R>', 'PartNumber')).toBe('9');
  });

  it('answers undefined for a missing element, and an empty string for an empty one', () => {
    expect(xmlText(listParts, 'UploadId')).toBeUndefined();
    expect(xmlText('<Error><Code>NoSuchUpload</Code></Error>', 'Message')).toBeUndefined();
    expect(xmlText('<R><VersionId/></R>', 'VersionId')).toBe('');
    expect(xmlText('<R><VersionId></VersionId></R>', 'VersionId')).toBe('');
  });

  it('undoes the five named entities and decimal and hexadecimal character references, each once', () => {
    // Prepare
    const xml = '<Key>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#65;&#x42;&#x1F600;&#233; &amp;lt; &amp;#65;</Key>';

    // Act
    const key = xmlText(xml, 'Key');

    // Assess: an escaped escape comes back as the escape, not what it names.
    expect(key).toBe('<a> & "b" \'c\' AB😀é &lt; &#65;');
  });

  it('keeps an unknown entity as written', () => {
    expect(xmlText('<Key>a&nbsp;b</Key>', 'Key')).toBe('a&nbsp;b');
  });

  it('reads a CDATA section as its characters, escapes and all, beside escaped text', () => {
    expect(xmlText('<Key><![CDATA[a<b> & &amp; c]]></Key>', 'Key')).toBe('a<b> & &amp; c');
    expect(xmlText('<Key>x &amp; <![CDATA[&lt;]]> y&lt;</Key>', 'Key')).toBe('x & &lt; y<');
  });

  it('reads the ETags S3 writes quoted, both as entities and as plain quotes', () => {
    const parts = xmlElements(listParts, 'Part');

    expect(parts.map((part) => xmlText(part, 'ETag'))).toEqual(['"a1"', '"b2"', '"c3"']);
  });
});

describe('Function: escapeXml', () => {
  it.each([
    ['plain text', 'renders/welcome.mp4'],
    ['markup characters', 'a<b>&c'],
    ['text that looks escaped already', '&amp; &lt; &#65; &#x42;'],
    ['quotes, which element content keeps as they are', `"double" 'single'`],
    ['the end of a CDATA section', ']]> <![CDATA[x]]>'],
    ['characters beyond ASCII', 'été 🎬 日本'],
    ['an empty string', ''],
  ])('escapes %s so that xmlText reads it back as it was', (_case, text) => {
    // Act
    const escaped = escapeXml(text);

    // Assess
    expect(escaped).not.toMatch(/[<>]/);
    expect(escaped.replace(/&(lt|gt|amp);/g, '')).not.toContain('&');
    expect(xmlText(`<Key>${escaped}</Key>`, 'Key')).toBe(text);
  });

  it('escapes the markup characters and nothing else', () => {
    expect(escapeXml('a<b>&"\'é')).toBe('a&lt;b&gt;&amp;"\'é');
  });
});
