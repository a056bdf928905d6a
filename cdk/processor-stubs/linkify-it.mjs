// Stands in for linkify-it in the processor bundle. mailparser builds a linkifier when it loads (≈10 ms of
// cold start) to turn URLs into links in `textAsHtml`; Mailroom parses with `skipTextToHtml`, so that code
// never runs. Every method answers "no links".
export default function linkifyIt() {
  const linkify = {
    tlds: () => linkify,
    add: () => linkify,
    set: () => linkify,
    test: () => false,
    pretest: () => false,
    match: () => null,
  };
  return linkify;
}
