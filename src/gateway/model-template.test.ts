import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelTemplate } from './model-template.js';
import { renderTemplate } from './rest/vtl.js';

const render = (template: string, body: unknown) =>
  renderTemplate(template, {
    body: JSON.stringify(body),
    request: { path: {}, querystring: {}, header: {} },
    context: {},
    stageVariables: {},
  });

const pet = JSON.stringify({
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    owner: { $ref: 'https://apigateway.amazonaws.com/restapis/abc/models/Owner' },
    tags: { type: 'array', items: { type: 'string' } },
    visits: {
      type: 'array',
      items: {
        type: 'object',
        properties: { when: { type: 'string' }, scores: { type: 'array', items: { type: 'number' } } },
      },
    },
    'x-rating': { type: 'number' },
  },
});
const owner = JSON.stringify({
  type: 'object',
  properties: { name: { type: 'string' }, vip: { type: 'boolean' } },
});

test('a model template lays out the schema with $inputRoot, quoted strings and #foreach over arrays', () => {
  const t = modelTemplate(pet, (n) => (n === 'Owner' ? owner : undefined));
  assert.equal(
    t,
    [
      "#set($inputRoot = $input.path('$'))",
      '{',
      '  "id" : $inputRoot.id,',
      '  "name" : "$inputRoot.name",',
      '  "owner" : {',
      '    "name" : "$inputRoot.owner.name",',
      '    "vip" : $inputRoot.owner.vip',
      '  },',
      '  "tags" : [',
      '#foreach($elem in $inputRoot.tags)',
      '    "$elem"#if($foreach.hasNext),#end',
      '#end',
      '  ],',
      '  "visits" : [',
      '#foreach($elem in $inputRoot.visits)',
      '    {',
      '      "when" : "$elem.when",',
      '      "scores" : [',
      '#foreach($elem1 in $elem.scores)',
      '        $elem1#if($foreach.hasNext),#end',
      '#end',
      '      ]',
      '    }#if($foreach.hasNext),#end',
      '#end',
      '  ],',
      `  "x-rating" : $inputRoot.get('x-rating')`,
      '}',
    ].join('\n'),
  );
  const input = {
    id: 7,
    name: 'Rex',
    owner: { name: 'Ann', vip: true },
    tags: ['a', 'b'],
    visits: [
      { when: 'mon', scores: [1, 2.5] },
      { when: 'tue', scores: [] },
    ],
    'x-rating': 4.5,
  };
  assert.deepEqual(JSON.parse(render(t, input)), input);
});

test('an array model, and a model that refers to itself', () => {
  const list = JSON.stringify({
    type: 'array',
    items: { type: 'object', properties: { id: { type: 'string' } } },
  });
  const t = modelTemplate(list, () => undefined);
  assert.deepEqual(JSON.parse(render(t, [{ id: 'a' }, { id: 'b' }])), [{ id: 'a' }, { id: 'b' }]);
  const node = JSON.stringify({
    type: 'object',
    properties: { next: { $ref: '#/definitions/Node' }, v: { type: 'integer' } },
    definitions: {
      Node: { type: 'object', properties: { v: { type: 'integer' }, next: { $ref: '#/definitions/Node' } } },
    },
  });
  const nt = modelTemplate(node, () => undefined);
  assert.deepEqual(JSON.parse(render(nt, { v: 1, next: { v: 2 } })), { v: 1, next: { v: 2, next: {} } });
});
