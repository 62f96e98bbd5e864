"""perfkit's verbs, one module each: `register(subparsers)` adds its parser
(and its `main(args)` as the parser's default `main`); `NEEDS` names the
modules it imports beyond the standard library."""
