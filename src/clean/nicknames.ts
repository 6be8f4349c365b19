/**
 * English (and a few Spanish, Italian and German) nicknames, short forms and
 * spelling variants → one canonical given name, for matching people whose
 * records say `Bob` in one place and `Robert` in another. Never used to
 * change what a person is called.
 *
 * A nickname can belong to one canonical name only. Where a nickname is
 * shared, it goes to the name it is most often short for in US/UK records,
 * and the choice is noted beside the line:
 * - Ted, Teddy → Edward (also Theodore; `Theo` stays with Theodore)
 * - Al → Albert (also Alan, Alfred, Alexander); Bert → Albert (also Herbert, Robert)
 * - Chris → Christopher (also Christine, Christian); Kit → Christopher (also Katherine)
 * - Pat → Patricia (also Patrick); Frank → Francis (also Franklin)
 * - Harry, Hal → Henry (also Harold); Jerry, Gerry → Gerald (also Jerome, Jeremy)
 * - Sandy → Sandra (also Alexander, Alexandra); Nate → Nathan (also Nathaniel)
 * - Mel → Melissa (also Melvin, Melanie); Millie → Mildred (also Amelia, Millicent)
 * - Ellie, Nell, Nellie → Eleanor (also Ellen, Helen); Max → Maximilian (also Maxwell)
 * - Terry → Terence (also Theresa); Val → Valerie (also Valentine)
 *
 * Format: `Canonical: nick nick …`, one canonical per line. Spelling variants
 * (Catherine, Steven) are listed like nicknames.
 */
const TABLE = `
Abigail: abby abbie abbey gail gayle
Abraham: abe bram
Adelaide: addie
Albert: al bert bertie albie
Alexander: alex alec alek xander zander sasha lex
Alexandra: lexi lexie alexa alix
Alfred: alfie alf
Alison: allie ally allison alyson
Amanda: mandy manda
Andrew: andy drew andie
Angela: angie
Anne: ann annie nan nannie
Anthony: tony antony
Antonia: toni tonia
Archibald: archie
Arthur: art artie
Augustus: gus augie
Barbara: barb barbie babs
Bartholomew: bart
Benjamin: ben benny benji benjy
Bernard: bernie barney
Beverly: bev beverley
Bridget: bridie biddy
Calvin: cal
Cameron: cam
Caroline: carrie caro carolyn
Cecilia: cissy
Charles: charlie chuck chas chaz chip
Charlotte: lottie lotte
Chester: chet
Christine: chrissy chrissie christie christina kristina kristine tina
Christopher: chris kit topher kristopher christoper
Clement: clem
Clifford: cliff
Constance: connie
Curtis: curt
Cynthia: cindy cyndi
Cyrus: cy
Daniel: dan danny
Danielle: dani
David: dave davey davy
Deborah: deb debbie debby debra
Dennis: denny
Desmond: des
Diana: di
Dolores: lola
Dominic: dom dominick
Donald: don donnie donny
Dorothy: dot dottie dolly
Douglas: doug
Edith: edie
Edward: ed eddie eddy ned ted teddy
Eleanor: ellie nell nellie elinor
Elizabeth: liz lizzie lizzy liza beth betty bettie betsy bess bessie eliza libby lisa lilibet elisabeth elspeth
Emily: em
Emma: emmy
Emmanuel: manny emanuel
Ernest: ernie
Esther: essie
Eugene: gene
Evelyn: evie
Ezekiel: zeke
Florence: flo flossie
Frances: fran fannie fanny
Francis: frank frankie
Frederick: fred freddie freddy fritz frederic
Gabriel: gabe
Gabrielle: gabby gabbie gabi
George: georgie geordie
Gerald: gerry jerry
Geraldine: geri
Gertrude: gertie trudy trudie
Gilbert: gil
Gordon: gordy
Gregory: greg gregg
Gwendolyn: gwen
Harriet: hattie
Henrietta: hetty
Henry: hank hal harry hen
Herbert: herb herbie
Howard: howie
Hugh: hughie
Ignatius: iggy
Isaac: ike
Isabella: bella izzy izzie isabel isabelle isobel
Jacob: jake jakob
Jacqueline: jackie jacqui jacky
James: jim jimmy jimmie jamie jem
Jane: janie
Jeffrey: jeff jeffry geoffrey geoff
Jennifer: jen jenn jenny jennie
Jessica: jess jessie
Joan: joanie
John: jack johnny jon jonny jonnie
Jonathan: jonathon
Joseph: joe joey
Josephine: jo josie
Joshua: josh
Judith: judy judi
Katherine: kate katie katy kathy cathy cat kat kitty kay catherine kathryn katharine
Kenneth: ken kenny
Kimberly: kim kimmy kimberley
Lawrence: larry lawrie laurence
Leonard: len lenny
Leslie: les
Lillian: lil
Louis: lou louie
Louise: lulu
Madeline: maddie maddy madeleine madelyn
Margaret: maggie meg peggy peg marge margie margo madge greta gretta
Mark: marc
Martha: mattie
Martin: marty
Mary: molly mollie polly mamie mae
Matilda: tilly tillie mathilda
Matthew: matt matty
Maximilian: max maxie
Melissa: mel missy lissa
Michael: mike mikey mick mickey micky
Michelle: shelly michele
Mildred: millie milly
Mitchell: mitch
Montgomery: monty
Mortimer: mort morty
Nathan: nate
Nathaniel: nat nathanael
Nicholas: nick nicky nico nicolas
Nicole: nikki niki nicki
Norman: norm
Oliver: ollie olly
Olivia: liv livvy
Pamela: pam pammy
Patricia: pat patty patti patsy tricia trish trisha
Patrick: paddy
Penelope: penny
Percival: percy
Peter: pete petey
Philip: phil pip phillip
Philippa: pippa
Priscilla: cilla prissy
Prudence: prue pru
Randall: randy
Raymond: ray
Rebecca: becky becca
Reginald: reg reggie
Reuben: rube
Richard: rick ricky rickie dick dickie rich richie ritchie
Robert: bob bobby rob robbie robby
Roberta: bobbie
Rodney: rod roddy
Ronald: ron ronnie ronny
Rose: rosie
Rudolph: rudy rudi dolph
Russell: russ rusty
Samantha: sammie sammi
Samuel: sam sammy
Sandra: sandy sandi
Sarah: sara sally sallie sadie
Scott: scotty
Sebastian: seb
Sidney: sid sydney
Solomon: sol
Sophia: sophie
Stanley: stan
Stephanie: steph
Stephen: steve stevie steven stefan
Stuart: stu stewart
Susan: sue susie suzy suzie
Sylvester: sly
Tabitha: tabby
Terence: terry terrence
Thaddeus: thad tad
Theodore: theo
Theresa: tess tessa tessie terri teresa
Thomas: tom tommy thom
Timothy: tim timmy
Tobias: toby
Valerie: val
Vanessa: nessa
Vernon: vern
Veronica: roni
Victor: vic vick
Victoria: vicky vicki vickie tori
Vincent: vince vinny vinnie vin
Virginia: ginny ginger jinny
Walter: walt wally
Wesley: wes
Wilfred: wilf
Wilhelmina: mina
William: bill billy will willy willie liam wil
Winifred: winnie
Woodrow: woody
Yvonne: vonnie
Zachary: zach zack zak zachariah
Zebulon: zeb
Alberto: beto
Eduardo: lalo
Enrique: quique
Francisco: paco pancho
Guadalupe: lupe
Guillermo: memo
Ignacio: nacho
José: jose pepe
Jesús: jesus chucho chuy
Giovanni: gianni
Giuseppe: beppe peppe
Johannes: hans
`;

const byName = new Map<string, string>();
for (const line of TABLE.split('\n')) {
  const colon = line.indexOf(':');
  if (colon === -1) continue;
  const canonical = line.slice(0, colon).trim();
  for (const key of [canonical.toLowerCase(), ...line.slice(colon + 1).trim().split(/\s+/)]) {
    if (key === '') continue;
    const known = byName.get(key);
    // A name under two canonicals would make matching depend on table order: fail loudly at load instead.
    if (known !== undefined && known !== canonical) throw new Error(`nicknames: "${key}" is listed under both ${known} and ${canonical}`);
    byName.set(key, canonical);
  }
}

/** How many names (canonicals, nicknames and variants) the table knows. */
export const NICKNAME_TABLE_SIZE = byName.size;

/**
 * The canonical given name for a nickname or variant (`Bob` → `Robert`,
 * `liz` → `Elizabeth`), case-insensitively; a canonical name maps to itself,
 * an unknown name to undefined. For matching only, never for display.
 */
export function canonicalGivenName(given: string): string | undefined {
  let key = given.trim();
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 127) {
      key = key.normalize('NFKC');
      break;
    }
  }
  return byName.get(key.toLowerCase());
}
