package io.sgstreams.launcher;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.codeUnits;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The architecture the issue tracker and ../shared/ENGINEERING.md ask for, enforced on the main
 * classes of every module (the launcher's test classpath holds them all; tests are not checked,
 * they may inspect Redis with Lettuce):
 *
 * <ul>
 *   <li>core owns everything about Redis: no other module depends on Lettuce, nor on core's
 *       {@code internal} packages (where the Lettuce connections live);
 *   <li>no Lettuce type in core's public API (public members of public classes outside
 *       {@code internal} packages);
 *   <li>the nodes never depend on each other, and core on none of them.
 * </ul>
 */
class ArchitectureTest {
  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    // the other modules are directories (target/classes) in a reactor build and sg-*.jar files
    // otherwise; third-party jars and every test class (and core's test-jar) are left out
    main = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(location -> !location.isJar()
            || (location.contains("/sg-") && !location.contains("-tests.jar")))
        .importPackages("io.sgstreams");
  }

  @Test
  void theMainClassesOfEveryModuleAreChecked() {
    for (String pkg : new String[] {"io.sgstreams.core.bus", "io.sgstreams.gateway", "io.sgstreams.worker",
        "io.sgstreams.tools", "io.sgstreams.launcher", "io.sgstreams.bench.roundtrip"}) {
      if (main.stream().noneMatch(c -> c.getPackageName().startsWith(pkg))) {
        throw new AssertionError("no classes of " + pkg + " were imported: the rules below would pass vacuously");
      }
    }
  }

  @Test
  void onlyCoreTalksToRedis() {
    noClasses().that().resideOutsideOfPackage("io.sgstreams.core..")
        .should().dependOnClassesThat().resideInAPackage("io.lettuce..")
        .because("core owns everything about Redis; nodes use its typed services")
        .check(main);
  }

  @Test
  void nothingOutsideCoreUsesCoreInternals() {
    noClasses().that().resideOutsideOfPackage("io.sgstreams.core..")
        .should().dependOnClassesThat().resideInAPackage("io.sgstreams.core..internal..")
        .because("core's public types are at the package roots; the rest is internal")
        .check(main);
  }

  @Test
  void coresPublicApiHasNoLettuceTypes() {
    codeUnits().that().arePublic()
        .and().areDeclaredInClassesThat().arePublic()
        .and().areDeclaredInClassesThat().resideInAPackage("io.sgstreams.core..")
        .and().areDeclaredInClassesThat().resideOutsideOfPackage("..internal..")
        .should(notExposeLettuce())
        .check(main);
  }

  @Test
  void nodesDoNotDependOnEachOtherAndCoreOnNone() {
    String[] nodes = {"io.sgstreams.gateway..", "io.sgstreams.worker..", "io.sgstreams.tools.."};
    for (String node : nodes) {
      for (String other : nodes) {
        if (!node.equals(other)) {
          noClasses().that().resideInAPackage(node).should().dependOnClassesThat().resideInAPackage(other)
              .because("a node is core plus its own I/O").check(main);
        }
      }
    }
    noClasses().that().resideInAPackage("io.sgstreams.core..")
        .should().dependOnClassesThat().resideInAnyPackage("io.sgstreams.gateway..", "io.sgstreams.worker..",
            "io.sgstreams.tools..", "io.sgstreams.launcher..", "io.sgstreams.bench..")
        .check(main);
  }

  private static ArchCondition<JavaCodeUnit> notExposeLettuce() {
    return new ArchCondition<>("not have Lettuce types in their signature") {
      @Override
      public void check(JavaCodeUnit unit, ConditionEvents events) {
        if (unit.getModifiers().contains(JavaModifier.SYNTHETIC) || unit.getModifiers().contains(JavaModifier.BRIDGE)) {
          return;
        }
        for (JavaClass t : unit.getAllInvolvedRawTypes()) {
          if (t.getPackageName().startsWith("io.lettuce")) {
            events.add(SimpleConditionEvent.violated(unit, unit.getFullName() + " exposes " + t.getName()));
          }
        }
      }
    };
  }
}
