// Minimal typing for the parts of libmime 5 that Mailroom uses (the package ships no types).
declare module 'libmime' {
  const libmime: {
    decodeWords(str: string): string;
  };
  export default libmime;
}
