/**
 * English sentiment lexicon for customer feedback. Written for Custodian;
 * weights −3..+3, see lexicon.ts. Lookups also try a crude stem (plural
 * -s, -ed, -ing), so only base forms are listed unless the inflected form
 * means something else. Phrases are space-separated and matched longest
 * first, before negation is applied.
 */
import { parseList, parseWeighted, type Lexicon } from './lexicon.js';

const POSITIVE = `
  good:2 great:2.5 excellent:3 superb:3 outstanding:3 brilliant:2.5 fantastic:3 amazing:2.5 awesome:2.5 wonderful:2.5 terrific:2.5 perfect:3 perfectly:2 flawless:3 flawlessly:2.5 impeccable:3 exceptional:3 stellar:2.5 top-notch:2.5 spot-on:2
  nice:1.5 lovely:2 pleasant:1.5 pleasantly:1.5 beautiful:2 gorgeous:2.5 stunning:2.5 stylish:1.5 elegant:1.5 neat:1.5 cute:1.5 pretty:1.5 tidy:1.5 clean:1.5 spotless:2 fresh:1.5 cosy:1.5 cozy:1.5 quiet:1 spacious:1.5 bright:1
  happy:2 glad:2 pleased:2 satisfied:2 delighted:2.5 thrilled:2.5 impressed:2.5 grateful:2 thankful:2 thanks:1.5 thank:1.5 enjoy:1.5 enjoyed:1.5 enjoyable:2 love:2.5 loved:2.5 loves:2.5 adore:2.5 like:1 liked:1.5 fan:1.5 favourite:2 favorite:2
  recommend:2 recommended:2 recommendation:1 praise:2 kudos:2 bravo:2 wow:1.5 yay:1.5 win:1.5 winner:2 gem:2 bargain:2 deal:0.5 steal:1
  delicious:2.5 tasty:2 yummy:2 flavourful:2 flavorful:2 tender:1.5 juicy:1.5 crispy:1.5 authentic:1.5 sweet:1 rich:1 generous:2 filling:1
  friendly:2 helpful:2 kind:1.5 polite:1.5 courteous:2 attentive:2 patient:1.5 professional:2 knowledgeable:2 responsive:2 considerate:2 caring:2 thoughtful:1.5 welcoming:2 lovely:2 warm:1.5 respectful:1.5 punctual:1.5 efficient:2 efficiently:2
  fast:1.5 quick:1.5 quickly:1 speedy:2 prompt:1.5 promptly:1.5 swift:1.5 rapid:1.5 timely:1.5 early:1 instant:1.5 smooth:1.5 smoother:1.5 smoothly:1.5 seamless:2 seamlessly:2 breeze:2 effortless:2
  easy:1.5 easily:1 simple:1 intuitive:2 convenient:1.5 handy:1.5 useful:1.5 practical:1.5 reliable:2 reliably:1.5 stable:1.5 sturdy:2 solid:1.5 durable:2 robust:1.5 strong:1 powerful:1.5 accurate:1.5 precise:1.5 clear:1 crisp:1.5 responsive:2
  comfortable:2 comfy:2 soft:1 cheap:0.5 affordable:1.5 inexpensive:1.5 reasonable:1.5 fair:1 worth:1.5 worthwhile:2 value:1 genuine:1 trustworthy:2 trust:1.5 honest:1.5 safe:1 secure:1 fit:0.5 improved:1.5 improvement:1.5 better:1.5 faster:1.5 quicker:1.5 easier:1.5 clearer:1.5 nicer:1.5 cheaper:1 best:2.5 fixed:1 resolved:1.5 solved:1.5 sorted:1
  exceeded:2 exceeds:2 surpassed:2 beyond:0.5 delight:2 pleasure:2 joy:2 charm:1.5 superior:2 premium:1 recommendable:2 reasonable:1.5 pleasantly:1.5 nicely:1.5 well:1 properly:1 fine:1 decent:1 ok:0.5 okay:0.5 alright:0.5 satisfactory:1
  five stars:2.5 5 stars:2.5 highly recommend:3 highly recommended:3 value for money:2 worth it:2 worth the wait:2 worth every penny:3 well made:2 well packed:1.5 well packaged:1.5 on time:1.5 as described:1.5 no complaints:2 no issues:2 no problems:2
  above and beyond:3 thumbs up:2 works like a charm:3 like a charm:2.5 can't fault:2.5 cannot fault:2.5 nothing to fault:2.5 couldn't be happier:3 ten out of ten:3 crystal clear:2 money back:0.5 come back:1.5 coming back:1.5 be back:1.5 buy again:2 order again:2 again and again:1.5
  never disappoints:3 fell in love:3 built like a tank:2.5 does the job:1.5 does what it says:2 good deal:2 great deal:2.5 good value:2 great value:2.5 nice touch:2 for good reason:1.5 getting better:1.5
  silky:2 vivid:1.5 snappy:2 zippy:1.5 nailed:2 nailed it:2.5 bang on:2 cheers:1 appreciated:2 appreciate:2 lifesaver:2.5 life saver:2.5 game changer:2.5 game-changer:2.5 peace of mind:2 hassle-free:2 painless:2 without a hitch:2.5 no hassle:2 no fuss:1.5 refreshing:1.5 clever:1.5 ingenious:2 nifty:1.5 well thought out:2 well-designed:2 well designed:2 sleek:1.5 lightweight:1 compact:1 roomy:1.5 plenty:1 hearty:1.5 moreish:2 mouth-watering:2 melt-in-the-mouth:2.5 succulent:2 fluffy:1.5 crunchy:1 glide:1 glides:1.5 effortless:2 effortlessly:2 snug:1.5 dependable:2 accommodating:2 obliging:2 legend:2 superstar:2 keeper:2 must-have:2 must have:2 would recommend:2.5 loyal:1.5 obsessed:2 fun:1.5 delightful:2.5 charming:2 impressive:2 remarkable:2 top quality:2.5 top-quality:2.5 first-class:2.5 first class:2.5 five-star:2.5 luxurious:2 luxury:1 long-lasting:2 hard-wearing:2 seasoned:1 well seasoned:2 sharp:1 upgrade:0.5 upgraded:1 saved:1 saves:1 worked:0.5 works:0.5 bonus:1.5 perk:1.5 quick fix:1.5 sorted it:2 went smoothly:2 no reason to leave:2 reasonably priced:2 good as new:2 like new:1.5 classy:2 a treat:1.5 work a treat:2.5 works a treat:2.5 out of her way:2 out of his way:2 out of their way:2 went the extra mile:3 extra mile:2 spot-on:2 chuffed:2.5 stoked:2.5 made my day:3 hit the spot:2 smashed it:2.5 rave:2 raving:2 gem of a:2
`;

const NEGATIVE = `
  bad:-2 poor:-2 poorly:-2 terrible:-3 terribly:-2.5 awful:-3 horrible:-3 horrendous:-3 dreadful:-3 atrocious:-3 abysmal:-3 appalling:-3 pathetic:-2.5 useless:-2.5 worthless:-3 rubbish:-2.5 garbage:-3 crap:-2.5 crappy:-2.5 junk:-2.5 lousy:-2.5 mediocre:-1.5 subpar:-2 shoddy:-2.5 sloppy:-2 flimsy:-2 cheaply:-1.5 plasticky:-1.5 worst:-3 worse:-2
  disappointed:-2.5 disappointing:-2.5 disappointment:-2.5 disappoint:-2 unhappy:-2.5 dissatisfied:-2.5 unsatisfied:-2 upset:-2 annoyed:-2 annoying:-2 angry:-2.5 furious:-3 frustrated:-2.5 frustrating:-2.5 frustration:-2.5 sad:-1.5 regret:-2.5 hate:-2.5 hated:-2.5 hates:-2.5 dislike:-2 sick:-2 disgusting:-3 gross:-2.5 nasty:-2.5 fed up:-2.5 let down:-2 letdown:-2 shame:-1.5 sorry:-0.5 apologise:-0.5 apologize:-0.5 unacceptable:-3 ridiculous:-2.5 absurd:-2.5 joke:-1.5 nightmare:-3 disaster:-3 mess:-2 hassle:-2 pain:-1.5 headache:-2
  slow:-1.5 slower:-1.5 slowly:-1 sluggish:-2 late:-1.5 delayed:-1.5 delay:-1.5 delays:-1.5 waited:-0.5 waiting:-0.5 ages:-1 forever:-1 lag:-1.5 laggy:-2 crash:-2 crashes:-2 crashing:-2.5 crashed:-2 freeze:-2 freezes:-2 frozen:-1.5 glitch:-1.5 glitchy:-2 buggy:-2 bug:-1.5 error:-1.5 errors:-1.5 unresponsive:-2 unusable:-3 broken:-2.5 broke:-2 break:-1 faulty:-2.5 defective:-2.5 damaged:-2.5 dead:-1.5 dies:-1.5 died:-1.5 fail:-2 failed:-2 fails:-2 failure:-2 drop:-1 drops:-1
  expensive:-1.5 overpriced:-2.5 pricey:-1.5 costly:-1.5 overcharge:-2.5 overcharged:-2.5 rip-off:-3 ripoff:-3 ripped off:-3 scam:-3 scammer:-3 fraud:-3 fake:-2.5 counterfeit:-3 misleading:-2.5 false advertising:-3 hidden fees:-2.5 hidden charges:-2.5 extra charges:-1.5 waste:-2.5 wasted:-2.5 waste of money:-3 not worth:-2.5 avoid:-2.5 beware:-2.5 steer clear:-2.5
  rude:-2.5 unhelpful:-2.5 unprofessional:-2.5 incompetent:-3 careless:-2 ignorant:-2 dismissive:-2 arrogant:-2.5 lazy:-2 ignored:-2.5 ignore:-2 ignoring:-2.5 swore:-2.5 shouted:-2 yelled:-2.5 clueless:-2 canned:-1 useless:-2.5 couldn't care less:-3
  dirty:-2 filthy:-2.5 unhygienic:-2.5 smelly:-2 stinks:-2.5 smell:-1 smelled:-1 damp:-1.5 mould:-2.5 mold:-2.5 noisy:-1.5 loud:-1 rotten:-3 stale:-2 bland:-1.5 tasteless:-2 salty:-1 greasy:-1.5 soggy:-2 overcooked:-2 undercooked:-2 burnt:-2 chewy:-1 cold:-1 inedible:-3 hair:-0.5 cockroach:-3 poisoning:-3 expired:-2.5 toxic:-2.5 chemical:-1 hurt:-1.5 hurting:-1.5 hurts:-1.5 pain:-1.5 painful:-2 blisters:-2 itchy:-1.5 rash:-2
  cheap:0.5 shrank:-2 shrunk:-2 scratch:-1.5 scratches:-1.5 scratched:-1.5 dent:-1.5 dented:-1.5 stain:-1.5 stains:-1.5 crushed:-2 shattered:-2.5 cracked:-2 leak:-2 leaks:-2 leaking:-2 peeling:-2 tear:-1.5 torn:-2 ripped:-2 loose:-1 missing:-2 wrong:-2 incorrect:-2 lost:-2 stolen:-2.5 cancelled:-1.5 canceled:-1.5 unavailable:-1.5 out of stock:-1.5 vanished:-2 disappeared:-2 dumped:-2 pilling:-2 shrink:-1.5 shrinking:-1.5 refused:-2 denied:-2 rejected:-2
  problem:-1.5 problems:-1.5 issue:-1 issues:-1 trouble:-1.5 complaint:-2 complain:-2 complained:-2 worry:-1 worried:-1.5 concern:-1 confusing:-2 confused:-1.5 complicated:-1.5 awkward:-1.5 difficult:-1.5 hard:-1 tricky:-1 cumbersome:-2 clunky:-2 tedious:-2 painfully:-1.5 unbearable:-2.5 unbearably:-2 ridiculously:-1 small:-0.3 tiny:-0.5 noisy:-1.5
  sadly:-1.5 unfortunately:-1.5 never again:-3 stay away:-3 last time:-1.5 not happy:-2.5 waste your money:-3 don't waste:-2.5 do not waste:-2.5 don't buy:-3 do not buy:-3 nothing like:-2 far from:-1.5 fell apart:-3 falls apart:-3 gave up:-2 give up:-2 hung up:-2 on hold:-1.5  took ages:-2.5 way off:-2 passing me:-2 runs small:-1 runs large:-1 spam:-2 ads:-1 adverts:-1 pop-ups:-1.5 popups:-1.5
  bobbly:-2 pilled:-2 frayed:-2 fraying:-2 unglued:-2 unstuck:-2 peeled:-2 snapped:-2.5 chipped:-2 bent:-1.5 warped:-2 wobbly:-1.5 rattles:-1.5 rattling:-1.5 squeaky:-1.5 squeaks:-1.5 creaky:-1.5 stripes:-1 flicker:-2 flickering:-2 glitches:-1.5 lags:-1.5 lagging:-2 buffering:-1.5 buffers:-1.5 stutters:-2 stuttering:-2 freezing:-1.5 froze:-2 stuck:-1.5 jams:-2 jammed:-2 clogged:-2 leaked:-2 leaky:-2 spilled:-2 spilt:-2 mushy:-1.5 sickly:-2 overpowering:-2 pungent:-2 stinky:-2.5 stench:-2.5 reeks:-2.5 ache:-1.5 aches:-1.5 aching:-1.5 sore:-1.5 sting:-1.5 stings:-1.5 scalded:-2 cramped:-1.5 stuffy:-1.5 draughty:-1.5 drafty:-1.5 paper-thin:-1.5 mystery charge:-2.5 stood me up:-3 no-show:-2.5 no show:-2.5 ghosted:-2.5 fobbed off:-2.5 brushed off:-2.5 runaround:-2.5 run-around:-2.5 passed around:-2 endless:-1 waste of time:-2.5 pointless:-2 shambles:-3 shambolic:-3 chaos:-2 chaotic:-2 disorganised:-2 disorganized:-2 forced:-1.5 pushy:-2 aggressive:-2 harassed:-2.5 harassing:-2.5 spammed:-2 misled:-2.5 lied:-2.5 lying:-2.5 dishonest:-2.5 shady:-2.5 dodgy:-2.5 sketchy:-2 bogus:-2.5 tricked:-2.5 cheated:-3 gutted:-2.5 livid:-3 fuming:-3 disgusted:-3 appalled:-3 horrified:-3 shocked:-1.5 irritating:-2 irritated:-2 infuriating:-3 exhausting:-2 stressful:-2 stressed:-1.5 skimpy:-2 stingy:-2 meagre:-2 meager:-2 overdue:-1.5 twice:0 charged twice:-2.5 double charged:-2.5 logs me out:-2 logged out:-1 fall off:-2 falls off:-2 came off:-1.5 fell off:-2 gave me a headache:-2.5 sent back:-1.5 went downhill:-2.5 gone downhill:-2.5 not impressed:-2.5 unreliable:-2.5 inconsistent:-1.5 outdated:-1.5 overrated:-2 underwhelming:-2 underwhelmed:-2 bugged:-1.5 drains:-1.5 drain:-1 gone off:-2.5 out of order:-2 flaking:-2 flaky:-2 muddy:-1.5 clumpy:-1.5 harassment:-2.5 wiped:-1 squashed:-2 upsold:-2 vague:-1.5 reboot:-1 far cry:-2 daylight robbery:-3 robbery:-2.5 let me down:-2 let us down:-2 cutting out:-2 cuts out:-2 mediocre at best:-2 meh:-1 so-so:-1 not great:-2 half-baked:-2 botched:-2.5 bodged:-2.5
`;

const BLOCKERS = `
  like that:0 looks like:0 feel like:0 feels like:0 would like:0 i'd like:0 if you like:0 no idea:-1 no matter:0 not only:0 not sure:0 no longer:0 never mind:0 too early:0 fair enough:0.5 honestly:0 later:0 happy birthday:0 happy new year:0 happy holidays:0 happy anniversary:0 would be nice:0 would be great:0 would love:0 would like:0 you get what you pay for:1 get what you pay for:1 pretty much:0 pretty sure:0 kind of:0 kind regards:0 best regards:0 at best:-1 at least:0 thank you:1.5 thanks for:1.5
`;

const NEGATORS = `stopped stops ceased not no never none nothing nobody nowhere neither nor without cannot zero lack lacks lacking lacked don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't couldn't shouldn't haven't hasn't hadn't ain't dont doesnt didnt isnt arent wasnt werent wont wouldnt cant couldnt havent hasnt`;
const WEAK_NEGATORS = `hardly scarcely rarely seldom barely`;

const INTENSIFIERS = `
  very:1.4 really:1.3 so:1.3 extremely:1.8 incredibly:1.7 super:1.5 absolutely:1.6 totally:1.5 completely:1.5 utterly:1.7 highly:1.5 truly:1.4 genuinely:1.3 definitely:1.3 seriously:1.4 especially:1.3 particularly:1.3 remarkably:1.5 exceptionally:1.7 insanely:1.7 massively:1.6 hugely:1.6 deeply:1.5
  too:1.4 way:1.4 far:1.3 much:1.2 more:1.1 most:1.5 even:1.1 such:1.3 real:1.2 properly:1.1 thoroughly:1.4 noticeably:1.2 surprisingly:1.2 unbelievably:1.7 ridiculously:1.7 painfully:1.6 unbearably:1.8 terribly:1.7 awfully:1.6 horribly:1.7 dreadfully:1.7 suspiciously:1.2 quite:1.1 pretty:1.1 rather:1.1 fairly:0.9 reasonably:0.9
  slightly:0.5 somewhat:0.6 bit:0.6 little:0.6 kinda:0.7 sorta:0.7 mildly:0.6 marginally:0.5 almost:0.8 relatively:0.9
`;

const CONTRAST = `but however yet nonetheless nevertheless except`;
const CONCESSIVE = `although though despite whilst`;

const EXPECTED = `
  work works working worked arrive arrives arrived arrival receive received deliver delivered delivery show showed shown turn turned respond responded response reply replied replies answer answers answered answering
  tell told inform informed notify notified match matches cancel support hear help helped fix refund refunded ship shipped dispatch dispatched load loads loading come came sound signal effect reach reached call called contact contacted update updated solve solution pay paid honour honoured
`;

const ASPECTS = `volume:1 capacity:1 portion:1 portions:1 storage:1 ads:-1 problems:-1 issues:-1 bugs:-1 errors:-1 complaints:-1 quality:1 value:1 efficiency:1 speed:1 rating:1 ratings:1 standard:1 standards:1 resolution:1 price:-1 prices:-1 pricing:-1 cost:-1 costs:-1 fee:-1 fees:-1 bill:-1 bills:-1 charges:-1 noise:-1 latency:-1 temperature:-1`;

/** Comma-separated because several signals are phrases. */
const COMPLAINT_SIGNALS = `
  refund, return, returned, returning, exchange, replacement, broken, broke, damaged, faulty, defective, scam, fraud, fake,
  counterfeit, complain, complaint, complained, ombudsman, lawyer, legal action, chargeback, dispute, overcharge, overcharged,
  charged, billing, billed, never received, never arrived, not received, not arrived, missing, wrong item, wrong size,
  wrong colour, wrong color, cancel, cancelled, canceled, expired, rotten, food poisoning, unsafe, rude, ignored, no response,
  no reply, nobody answers, warranty, compensation, rip-off, ripoff, ripped off, stolen, lost parcel, money back
`;

// Entries may be phrases, so split only on the whitespace that follows a weight.
const AFTER_WEIGHT = /(?<=:-?[\d.]+)\s+/;

function set(source: string): Set<string> {
  return new Set(parseList(source));
}

export const EN_LEXICON: Lexicon = {
  words: new Map([...parseWeighted(POSITIVE, AFTER_WEIGHT), ...parseWeighted(NEGATIVE, AFTER_WEIGHT), ...parseWeighted(BLOCKERS, AFTER_WEIGHT)]),
  negators: set(NEGATORS + ' ' + WEAK_NEGATORS),
  weakNegators: set(WEAK_NEGATORS),
  intensifiers: parseWeighted(INTENSIFIERS),
  postIntensifiers: new Map(),
  contrast: set(CONTRAST),
  concessive: set(CONCESSIVE),
  expected: set(EXPECTED),
  aspects: new Map([...parseWeighted(ASPECTS)].map(([k, v]) => [k, v > 0 ? 1 : -1] as const)),
  high: set('high higher steep more'),
  low: set('low lower less fewer'),
  complaintSignals: parseList(COMPLAINT_SIGNALS, /\s*,\s*/),
};
