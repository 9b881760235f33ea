import { describe, expect, it } from 'vitest';
import { assignNames, graphqlName, nameHash } from '../src/lexicon-types/naming.js';

const NONE = new Set<string>();
const VALID_NAME = /^(?!__)[_A-Za-z][_0-9A-Za-z]*$/;

describe('Lexicon GraphQL names', () => {
  it('maps house-style names without a suffix', () => {
    expect(graphqlName('Sign Up', 'type', NONE)).toBe('SignUp');
    expect(graphqlName('Add To Cart', 'type', NONE)).toBe('AddToCart');
    expect(graphqlName('$mp_web_page_view', 'type', NONE)).toBe('_MpWebPageView');
    expect(graphqlName('utm_source', 'field', NONE)).toBe('utmSource');
    expect(graphqlName('$browser', 'field', NONE)).toBe('_browser');
    expect(graphqlName('$current_url', 'field', NONE)).toBe('_currentUrl');
    expect(graphqlName('mp_country_code', 'field', NONE)).toBe('mpCountryCode');
  });

  it('gives every other name a readable base and a suffix from the hash of the original', () => {
    expect(graphqlName('Plan Type', 'field', NONE)).toBe(`planType_${nameHash('Plan Type')}`);
    expect(graphqlName('sign_up', 'type', NONE)).toBe(`SignUp_${nameHash('sign_up')}`);
    expect(graphqlName('3d view', 'field', NONE)).toBe(`_3dView_${nameHash('3d view')}`);
    expect(graphqlName('注册', 'type', NONE)).toBe(`Unnamed_${nameHash('注册')}`);
    expect(graphqlName('', 'field', NONE)).toBe(`unnamed_${nameHash('')}`);
    expect(graphqlName('$Weird Name', 'field', NONE)).toBe(`_weirdName_${nameHash('$Weird Name')}`);
    expect(nameHash('Plan Type')).toMatch(/^[0-9a-f]{8}$/);
  });

  it('suffixes a house-style name that would take a reserved name', () => {
    const reserved = new Set(['name', 'Profile']);
    expect(graphqlName('name', 'field', reserved)).toBe(`name_${nameHash('name')}`);
    expect(graphqlName('Profile', 'type', reserved)).toBe(`Profile_${nameHash('Profile')}`);
  });

  it('never gives two names the same GraphQL name, and adding names renames none', () => {
    const awkward = [
      'Sign Up',
      'Sign up',
      'sign_up',
      'SIGN UP',
      'SignUp',
      'sign-up',
      '$sign_up',
      'Sign  Up',
      '注册',
      '登録',
      '',
      ' ',
      '3d',
      '$3d',
      '_x',
      '__y',
    ];
    const first = assignNames(awkward, 'type', NONE);
    expect(first.clashes).toEqual([]);
    expect(new Set(first.names.values()).size).toBe(awkward.length);
    for (const name of first.names.values()) expect(name).toMatch(VALID_NAME);

    const more = assignNames([...awkward, 'sign up', 'Sign_Up', 'SiGn Up', 'Sign Up 2'].reverse(), 'type', NONE);
    for (const [original, name] of first.names) expect(more.names.get(original)).toBe(name);
    expect(new Set(more.names.values()).size).toBe(more.names.size);
  });
});
